"""Nothing in the student's kernel decides a grade, and nothing it produces leaks a hidden test.

Each attack below is added to wrong-but-running answers of 01-derivatives (and of
03-forward-mode for the ones that act on the op checks, and of 04-reverse-mode for the ones that
act on the reverse-mode checks), graded by the real pipeline (sandboxed kernel; the test
cells run in the grader's process, which asks the kernel only to call the student's code).
The kernel only answers with what the student's code returned, so every attack must score
what the wrong answers alone score: 0.

The classes, as a determined student tried them against the in-kernel guard the kit used to
have: forging or silencing the verdict (switching the checks to judge in the kernel, patching
the judges, a background thread, ctypes, wrapping the kernel's session), reading what the
checkers hold (frames), file edits alone (the setup cell's metadata, planted verdicts), and
leaking hidden tests (captured cell sources printed, raised and displayed).
"""

from __future__ import annotations

import copy
import html
import json
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.course import REPO_ROOT
from autograder.examples.make_examples import wrong_answers
from autograder.exports.all_formats import export_all
from autograder.exports.feedback import feedback_all
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.grading.verify import split_parts
from autograder.sandbox.policy import Limits, bwrap_works

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-trusted")]

ANSWER_MIME = "application/vnd.coursekit.answer+json"

ATTACKS = {
    # checks judge in the kernel again, where the rest of the attacks could fool them
    "forces-interactive": """\
import os
os.environ.pop("COURSEKIT_RECORD", None)
import numpy as np
np.allclose = lambda *a, **k: True
""",
    "forges-modes": """\
import coursekit.core as _core, coursekit.checks as _checks
_core.deciding = lambda: False
_core.mode = lambda: "interactive"
for _m in (_checks,):
    _m.deciding = lambda: False
""",
    "patches-judges": """\
import coursekit.checks as _checks, coursekit.difference_checks as _diff
import numpy as np
_checks.check_close = lambda *a, **k: None
_diff.check_close = lambda *a, **k: None
_checks.close = lambda got, expected, *a, **k: np.ones(np.shape(got), dtype=bool)
np.allclose = np.isclose = lambda *a, **k: True
""",
    "background-thread": """\
import threading, time
import numpy as np
import coursekit.checks as _checks
def _keep_patching():
    while True:
        _checks.check_close = lambda *a, **k: None
        np.all = lambda *a, **k: True
        time.sleep(0.001)
threading.Thread(target=_keep_patching, daemon=True).start()
""",
    "ctypes-constants": """\
import ctypes, coursekit.checks as _checks
for _name in ("RTOL", "ATOL"):
    ctypes.c_double.from_address(id(getattr(_checks, _name)) + 16).value = 1e300
""",
    # the kernel's own transport: drop every answer, or send each one twice
    "drops-records": """\
_kernel = get_ipython().kernel
_send = _kernel.session.send
def _drop(stream, msg_or_type, content=None, *args, **kwargs):
    if msg_or_type == "display_data" and "MIME" in (content or {}).get("data", {}):
        return None
    return _send(stream, msg_or_type, content, *args, **kwargs)
_kernel.session.send = _drop
""".replace("MIME", ANSWER_MIME),
    "doubles-records": """\
_kernel = get_ipython().kernel
_send = _kernel.session.send
def _twice(stream, msg_or_type, content=None, *args, **kwargs):
    if msg_or_type == "display_data" and "MIME" in (content or {}).get("data", {}):
        _send(stream, msg_or_type, content, *args, **kwargs)
    return _send(stream, msg_or_type, content, *args, **kwargs)
_kernel.session.send = _twice
""".replace("MIME", ANSWER_MIME),
    # an answer that looks up what the checker holds while it runs
    "reads-frames": """\
import sys
import numpy as np
def _peek(*names):
    frame = sys._getframe(1)
    while frame is not None:
        for name in names:
            if callable(frame.f_locals.get(name)):
                return frame.f_locals[name]
        frame = frame.f_back
    return None
def numerical_gradient(f, x, h):
    exact = _peek("gradient", "exact", "df", "derivative")
    return exact(x) if exact is not None else np.zeros_like(x)
def forward_difference(f, x, h):
    exact = _peek("df", "derivative", "exact")
    return exact(x) if exact is not None else 0.0 * x
""",
}

#: Attacks on the op checks of notebook 03.
ATTACKS_03 = {key: ATTACKS[key] for key in
              ("forces-interactive", "forges-modes", "patches-judges", "drops-records")}

#: Attacks on the reverse-mode checks of notebook 04 (backward_pass, backward, the max gate).
ATTACKS_04 = {
    **{key: ATTACKS[key] for key in ("forces-interactive", "drops-records")},
    "forges-modes": """\
import coursekit.core as _core, coursekit.reverse_checks as _reverse
_core.deciding = _reverse.deciding = lambda: False
_core.mode = lambda: "interactive"
""",
    "patches-judges": """\
import numpy as np
import coursekit.reverse_checks as _reverse
for _name in ("_judge_max", "_judge_run", "_judge_reset", "check_visit_order"):
    setattr(_reverse, _name, lambda *a, **k: None)
_reverse.close = lambda got, expected, *a, **k: np.ones(np.shape(got), dtype=bool)
""",
}


def _wrong_04():
    """04's exercises answered wrongly but running: typical bugs of each (its `wrong()` leaves
    `backward_pass` and `backward`, which return nothing, as they were)."""
    from tests.notebooks.variants.v04_reverse_mode import EXERCISES
    nb = wrong_answers(REPO_ROOT, "04-reverse-mode", "reverse_mode")
    bugs = {"backward_pass": "overwrites", "backward": "not_reversed", "_max": "tie_counted_twice"}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in bugs:
            cell.source = EXERCISES[grade_id]["bugs"][bugs[grade_id]]
    return nb


#: Captures every cell's source (hidden tests included) and pushes it out every way it can.
LEAKER = """\
import sys
_seen = []
def _capture(info):
    _seen.append(info.raw_cell)
def _leak(result):
    text = "\\n".join(_seen)
    print(text)
    print(text, file=sys.stderr)
    from IPython.display import HTML, display
    display(HTML("<pre>" + text + "</pre>"))
get_ipython().events.register("pre_run_cell", _capture)
get_ipython().events.register("post_run_cell", _leak)
"""
#: ... and, as the last answer, raises an error whose message carries them.
RAISER = """\
def tanh_derivative(x):
    raise ValueError("leak: " + "\\n".join(_seen)[-400:])
"""


def _attacked(base, code: str, last: str | None = None):
    """``code`` right after the first answer (and ``last`` right after the last one)."""
    nb = copy.deepcopy(base)
    answers = [i for i, c in enumerate(nb.cells)
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    if last is not None:
        nb.cells.insert(answers[-1] + 1, new_code_cell(last))
    nb.cells.insert(answers[0] + 1, new_code_cell(code))
    return nb


def _setup_cell_replaced(base):
    """A file edit alone: the setup cell loses its nbgrader metadata (so nothing restores it)
    and defines do-nothing stand-ins for every check."""
    nb = copy.deepcopy(base)
    setup = next(c for c in nb.cells if c.cell_type == "code"
                 and c.metadata.get("nbgrader", {}).get("locked") and "import" in c.source)
    del setup.metadata["nbgrader"]
    names = [name.strip() for line in setup.source.splitlines() if " import " in line
             for name in line.split(" import ")[1].strip("()").split(",") if name.strip()]
    setup.source = "import numpy as np\n" + "".join(
        f"def {name}(*args, **kwargs):\n    pass\n" for name in names if name.isidentifier())
    return nb


def _verdicts_planted(base):
    nb = copy.deepcopy(base)
    for cell in nb.cells:
        cell.metadata["autograder"] = {"outcome": "passed", "public": "passed"}
    return nb


def _hidden_lines(assignment: str, notebook: str) -> list[str]:
    master = nbformat.read(REPO_ROOT / "solutions" / assignment / f"{notebook}.ipynb", 4)
    lines = []
    for cell in master.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            for part, code in split_parts(cell.source):
                if part == "hidden":
                    lines += [line.strip() for line in code.splitlines()
                              if len(line.strip()) >= 12]
    assert lines, "the 01 master has no hidden tests to leak"
    return lines


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("trusted")
    submissions = base / "submitted"
    plan = {"01-derivatives": ("derivatives", ATTACKS),
            "03-forward-mode": ("forward_mode", ATTACKS_03),
            "04-reverse-mode": ("reverse_mode", ATTACKS_04)}
    for assignment, (notebook, attacks) in plan.items():
        wrong = (_wrong_04() if assignment == "04-reverse-mode"
                 else wrong_answers(REPO_ROOT, assignment, notebook))
        made = {"wrong-answers": wrong, **{name: _attacked(wrong, code)
                                          for name, code in attacks.items()}}
        if assignment == "01-derivatives":
            made["leaks-hidden-tests"] = _attacked(wrong, LEAKER, last=RAISER)
            made["replaces-setup-cell"] = _setup_cell_replaced(wrong)
            made["plants-verdicts"] = _verdicts_planted(wrong)
        for student, nb in made.items():
            path = submissions / student / assignment / f"{notebook}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
    work = base / "work"
    rows = grade_batch(submissions, BatchOptions(
        root=REPO_ROOT, work=work, workers=2, limits=Limits(cell_timeout=20, wall_clock=90),
        require_sandbox=bwrap_works(), progress=False))
    feedback_all(REPO_ROOT, work)
    export_all(REPO_ROOT, work, work / "export")
    ci = subprocess.run(
        [sys.executable, "-m", "autograder", "ci",
         str(submissions / "leaks-hidden-tests"), "--root", str(REPO_ROOT),
         "--output", str(base / "ci"), "--timeout", "60"],
        capture_output=True, text=True, timeout=300)
    return {"rows": {(r.student, r.assignment): r for r in rows}, "work": work,
            "ci": ci, "ci_folder": base / "ci"}


CASES = ([(a, "01-derivatives") for a in [*ATTACKS, "leaks-hidden-tests", "replaces-setup-cell",
                                           "plants-verdicts"]]
         + [(a, "03-forward-mode") for a in ATTACKS_03]
         + [(a, "04-reverse-mode") for a in ATTACKS_04])


@pytest.mark.parametrize(("student", "assignment"), CASES)
def test_attack_scores_no_more_than_the_wrong_answers_alone(graded, student, assignment):
    wrong = graded["rows"][("wrong-answers", assignment)]
    row = graded["rows"][(student, assignment)]
    assert wrong.score == 0, "the wrong answers alone must score nothing"
    assert row.score <= wrong.score, (student, row.score, str(row.outcome))


def test_the_wrong_answers_are_graded_not_refused(graded):
    for assignment in ("01-derivatives", "03-forward-mode", "04-reverse-mode"):
        assert graded["rows"][("wrong-answers", assignment)].outcome.graded


def test_no_hidden_test_line_reaches_anything_a_student_sees(graded):
    work = graded["work"]
    seen = [p for p in (work / "feedback" / "leaks-hidden-tests").rglob("*.html")]
    seen += [p for p in (work / "export").rglob("*") if p.is_file()]
    seen += [p for p in graded["ci_folder"].rglob("*") if p.is_file()]
    assert len(seen) >= 3, seen
    texts = {str(p): p.read_text(errors="replace") for p in seen}
    texts["ci stdout"] = graded["ci"].stdout + graded["ci"].stderr
    assert "Points" in texts["ci stdout"], texts["ci stdout"][-2000:]
    for line in _hidden_lines("01-derivatives", "derivatives"):
        forms = {line, html.escape(line), html.escape(line, quote=False),
                 json.dumps(line)[1:-1]}
        for where, text in texts.items():
            assert not any(form in text for form in forms), (line, where)


def test_the_instructor_still_sees_what_the_code_raised(graded):
    """The autograded notebook (instructors only) keeps the check's full message."""
    path = (graded["work"] / "autograded" / "leaks-hidden-tests" / "01-derivatives"
            / "derivatives.ipynb")
    nb = nbformat.read(path, 4)
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_tanh_derivative")
    assert cell.outputs[0].output_type == "error"
    assert "ValueError" in cell.outputs[0].evalue
    assert ANSWER_MIME not in json.dumps(nb.cells)
    # the leaker printed every cell the kernel ran, and no hidden test is among them: the
    # kernel never ran a test cell
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "def tanh_derivative" in text  # it did print what it captured
    assert not any(json.dumps(line)[1:-1] in text for line in _hidden_lines("01-derivatives",
                                                                               "derivatives"))


def test_planted_verdicts_are_replaced_by_the_graders(graded):
    path = (graded["work"] / "autograded" / "plants-verdicts" / "01-derivatives"
            / "derivatives.ipynb")
    nb = nbformat.read(path, 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            assert cell.metadata["autograder"]["outcome"] != "passed", meta["grade_id"]
        else:
            assert "autograder" not in cell.metadata
