"""The hostile example submissions are sharp: without the kit they would score.

Each hostile submission of the example class (`autograder.examples.make_examples`) answers
01-derivatives with wrong but running code and adds an attack. Its expected score 0 only proves
something if the attack would have scored without the kit's defences. Here the same notebooks
are graded twice:

* plain nbgrader (`NbGraderAPI.autograde`, nbgrader's own defaults, in a temp course made from
  the 01 master): it restores locked cells but does not guard the kernel, so the in-kernel
  attacks fool it;
* the kit (`autograder.gradebook.batch.grade_batch`, sandbox and guard on): every one scores 0.

Measured (plain nbgrader -> kit, of 11 points):

    wrong-answers       0 -> 0   control: the wrong answers alone score nothing
    hides-tracebacks   11 -> 0   a line transformer wraps test cells in try/except
    patches-numpy       7 -> 0   np.all/allclose/isclose/array_equal say yes (the order checks
                                 of the difference quotients compare Python floats, hence 7)
    patches-coursekit  11 -> 0   every coursekit check_* gets a no-op __code__
    shadows-checks     11 -> 0   the notebook's own names for the checks are rebound
    prints-passed      11 -> 0   a pre_run_cell hook puts an execute_result ("All tests
                                 passed!") before each test's error: nbgrader's full credit
    always-equal        0 -> 0   not sharp against nbgrader either: coursekit converts every
                                 result to a float64 array before comparing (as_float_array),
                                 so a lying __eq__ is never asked

Not run here (slow, and nbgrader already defeats them; measured once with the same harness):
edits-tests 0 (OverwriteCells restores source and points), deletes-tests 0 (the deleted cells
have no score), duplicates-cells 0 (nbgrader refuses the notebook), retypes-cells 0
(OverwriteCells restores the cell type), calls-sys-exit 0 (SystemExit ends one cell only),
calls-os-exit 0 (autograde fails for the notebook).
"""

from __future__ import annotations

import shutil

import nbformat
import pytest
from traitlets.config import Config

from autograder.course import REPO_ROOT, ensure_alembic_on_path, existing_assignments
from autograder.examples.make_examples import HOSTILE_ASSIGNMENT, hostile_notebooks, notebooks
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.sandbox.policy import Limits, bwrap_works

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-sharp")]

#: Attacks that fool plain nbgrader (score > 0 there) and must score 0 with the kit.
FOOL_NBGRADER = ["hides-tracebacks", "patches-numpy", "patches-coursekit", "shadows-checks",
                 "prints-passed"]
#: Graded too, but 0 with plain nbgrader already (see the module docstring).
ZERO_ANYWAY = ["wrong-answers", "always-equal"]


def _plain_nbgrader(root, submissions) -> dict[str, float]:
    """Each student's score from `nbgrader autograde` with nbgrader's defaults."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    ensure_alembic_on_path()
    source = root / "source" / HOSTILE_ASSIGNMENT
    source.mkdir(parents=True)
    for path in (REPO_ROOT / "solutions" / HOSTILE_ASSIGNMENT).glob("*.ipynb"):
        shutil.copy(path, source)
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.Execute.timeout = 20
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    assert api.generate_assignment(HOSTILE_ASSIGNMENT, force=True)["success"]
    scores = {}
    for student in sorted(p.name for p in submissions.iterdir()):
        shutil.copytree(submissions / student, root / "submitted" / student)
        result = api.autograde(HOSTILE_ASSIGNMENT, student, force=True)
        assert result["success"], result.get("log") or result.get("error")
        scores[student] = api.gradebook.find_submission(HOSTILE_ASSIGNMENT, student).score
    return scores


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    if HOSTILE_ASSIGNMENT not in existing_assignments(REPO_ROOT):
        pytest.skip("no 01-derivatives master")
    base = tmp_path_factory.mktemp("sharp")
    submissions = base / "submissions"
    for notebook in notebooks(REPO_ROOT, HOSTILE_ASSIGNMENT):
        made = hostile_notebooks(REPO_ROOT, HOSTILE_ASSIGNMENT, notebook)
        for student in FOOL_NBGRADER + ZERO_ANYWAY:
            nb, _, _ = made[student]
            path = submissions / student / HOSTILE_ASSIGNMENT / f"{notebook}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
    plain = _plain_nbgrader(base / "nbgrader", submissions)
    limits = Limits(cell_timeout=20, wall_clock=60)
    rows = grade_batch(submissions, BatchOptions(
        root=REPO_ROOT, work=base / "kit", workers=2, limits=limits,
        require_sandbox=bwrap_works(), progress=False, assignments=[HOSTILE_ASSIGNMENT]))
    kit = {row.student: (row.score, str(row.outcome.kind)) for row in rows}
    return {student: (plain[student], *kit[student]) for student in plain}


@pytest.mark.parametrize("attack", FOOL_NBGRADER)
def test_attack_fools_plain_nbgrader_but_not_the_kit(scores, attack, record_property):
    plain, kit, outcome = scores[attack]
    record_property("plain_nbgrader_vs_kit", f"{plain:g} vs {kit:g} ({outcome})")
    assert plain > 0, f"{attack} is not sharp: plain nbgrader gives it {plain}"
    assert kit == 0, f"{attack} beats the kit: {kit} ({outcome})"


@pytest.mark.parametrize("student", [f"{s}-zero-with-nbgrader-too" for s in ZERO_ANYWAY])
def test_wrong_answers_alone_and_always_equal_score_nothing_anywhere(scores, student):
    plain, kit, _ = scores[student.removesuffix("-zero-with-nbgrader-too")]
    assert (plain, kit) == (0, 0)
