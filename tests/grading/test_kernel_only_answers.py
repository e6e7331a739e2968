"""The grading kernel answers requests and never sees a test (issue 20), end to end.

Graded by the real pipeline (`grade_batch`, a pool of 2, the sandbox where bwrap works):

* **forged and tampered answers**: each master's own correct answers, with one cell that
  rewrites every answer the kernel sends (every float to inf, nan or 1e308, every float array
  to integers or to another shape, or answers forged for guessed request ids), score nothing on
  every assignment: each check asks for data of a kind and judges it against its own expected
  value, so no answer of the wrong kind passes;
* **a blank release plus one cell** that tries to learn the tests (every source the kernel ran,
  every object it holds) learns nothing and scores nothing;
* **no cascade**: in 03 a wrong `forward_pass` costs its own exercise (and `jacobian`, which
  runs on it), never the op exercises.
"""

from __future__ import annotations

import copy
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.course import REPO_ROOT
from autograder.examples.make_examples import answered, auto_points
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.grading.verify import split_parts
from autograder.sandbox.policy import Limits, bwrap_works

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-asks")]

ASSIGNMENTS = {"01-derivatives": "derivatives", "02-chain-rule": "chain_rule",
               "03-forward-mode": "forward_mode", "04-reverse-mode": "reverse_mode",
               "05-mlp-backprop": "mlp_backprop"}

#: Rewrites every answer the kernel sends: `CHANGE` maps one decoded float array or float.
REWRITER = """\
import numpy as np
import coursekit.core as _core
_plain = _core.encoded_answer
def _change_all(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return CHANGE_ARRAY
    if isinstance(value, float):
        return CHANGE_FLOAT
    if isinstance(value, (list, tuple)):
        return [_change_all(v) for v in value]
    return value
_core.encoded_answer = lambda data: _plain(_change_all(data))
"""
CHANGES = {
    "inf": ("np.full_like(value, np.inf)", "float('inf')"),
    "nan": ("np.full_like(value, np.nan)", "float('nan')"),
    "huge": ("np.full_like(value, 1e308)", "1e308"),
    "int-dtype": ("np.rint(value).astype(np.int64)", "int(round(value))"),
    "other-shape": ("np.append(value.ravel(), 1.0)", "[value, value]"),
}
#: Answers every request itself, and sends answers for guessed ids besides.
FORGER = """\
import json
import coursekit.answer as _answer
from IPython.display import publish_display_data
MIME = "application/vnd.coursekit.answer+json"
def _forged(text):
    request = json.loads(text)
    for guess in (request["id"], request["id"][:-1] + "0", "0", None):
        publish_display_data({MIME: {"id": guess, "value": {"~f": "inf"}}})
    publish_display_data({MIME: {"id": request["id"], "value": 1.0}})
_answer.answer_request = _forged
"""
#: A blank notebook's one cell: keep everything the kernel ever runs or holds.
SNOOPER = """\
import gc, sys
_heard = []
get_ipython().events.register("pre_run_cell", lambda info: _heard.append(info.raw_cell))
def _dump():
    strings = [o for o in gc.get_objects() if isinstance(o, str) and len(o) > 20]
    print("\\n".join(_heard))
    print("\\n".join(strings[-20000:]))
get_ipython().events.register("post_run_cell", lambda result: _dump())
"""


def _with_cell(nb, code: str):
    nb = copy.deepcopy(nb)
    answers = [i for i, c in enumerate(nb.cells)
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    nb.cells.insert(answers[0], new_code_cell(code))  # before every answer and test
    return nb


def _with_broken_forward_pass(nb):
    from tests.notebooks.variants.v03_forward_mode import EXERCISES

    nb = copy.deepcopy(nb)
    bug = EXERCISES["forward_pass"]["bugs"]["overwrites instead of adding (reuse breaks)"]
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "forward_pass":
            cell.source = bug
    return nb


def _points(assignment: str, notebook: str) -> dict[str, float]:
    master = nbformat.read(REPO_ROOT / "solutions" / assignment / f"{notebook}.ipynb", 4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in master.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution") and c.cell_type == "code"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("asks")
    submissions = base / "submitted"
    made: dict[tuple[str, str], object] = {}
    for assignment, notebook in ASSIGNMENTS.items():
        right = answered(REPO_ROOT, assignment, notebook)
        made[("right", assignment)] = right
        for name, (array, number) in CHANGES.items():
            code = REWRITER.replace("CHANGE_ARRAY", array).replace("CHANGE_FLOAT", number)
            made[(f"answers-{name}", assignment)] = _with_cell(right, code)
        made[("forges-answers", assignment)] = _with_cell(right, FORGER)
    blank = nbformat.read(REPO_ROOT / "course" / "01-derivatives" / "derivatives.ipynb", 4)
    made[("blank-snoops", "01-derivatives")] = _with_cell(blank, SNOOPER)
    right_03 = made[("right", "03-forward-mode")]
    made[("broken-forward-pass", "03-forward-mode")] = _with_broken_forward_pass(right_03)
    for (student, assignment), nb in made.items():
        path = submissions / student / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    work = base / "work"
    rows = grade_batch(submissions, BatchOptions(
        root=REPO_ROOT, work=work, workers=2, limits=Limits(cell_timeout=30, wall_clock=150),
        require_sandbox=bwrap_works(), progress=False))
    return {"rows": {(r.student, r.assignment): r for r in rows}, "work": work}


def test_the_right_answers_earn_every_automatic_point(graded):
    for assignment, notebook in ASSIGNMENTS.items():
        row = graded["rows"][("right", assignment)]
        expected = auto_points(answered(REPO_ROOT, assignment, notebook))
        assert row.outcome.graded and row.score == expected, (assignment, row.score, expected)


@pytest.mark.parametrize("attack", [f"answers-{name}" for name in CHANGES] + ["forges-answers"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answers_of_the_wrong_kind_score_nothing(graded, attack, assignment):
    row = graded["rows"][(attack, assignment)]
    assert row.score == 0, (attack, assignment, row.score, str(row.outcome))


def test_a_blank_notebook_that_snoops_learns_no_test_and_scores_nothing(graded):
    row = graded["rows"][("blank-snoops", "01-derivatives")]
    assert row.score == 0
    path = graded["work"] / "autograded" / "blank-snoops" / "01-derivatives" / "derivatives.ipynb"
    printed = json.dumps([c.get("outputs", []) for c in nbformat.read(path, 4).cells])
    assert "raw_cell" not in printed and len(printed) > 10_000  # the snooper did print
    master = nbformat.read(REPO_ROOT / "solutions" / "01-derivatives" / "derivatives.ipynb", 4)
    secrets, elsewhere = [], set()
    for cell in master.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            for _part, code in split_parts(cell.source):
                secrets += [line.strip() for line in code.splitlines() if len(line.strip()) > 12]
        else:  # a line the notebook itself holds too (a reference written out in the text)
            elsewhere |= {line.strip() for line in cell.source.splitlines()}
    secrets = [line for line in secrets if line not in elsewhere]
    assert len(secrets) > 10
    for line in secrets:  # no test source, visible or hidden, was ever in the kernel
        assert json.dumps(line)[1:-1] not in printed, line


def test_a_wrong_forward_pass_costs_its_own_points_not_the_ops(graded):
    points = _points("03-forward-mode", "forward_mode")
    row = graded["rows"][("broken-forward-pass", "03-forward-mode")]
    right = graded["rows"][("right", "03-forward-mode")]
    lost = right.score - row.score
    # forward_pass itself, and jacobian, whose answer runs on the student's forward_pass
    assert lost == points["test_forward_pass"] + points["test_jacobian"], (row.score, lost)
