"""Hostile submissions against the fixture course: none may raise its score or escape.

One batch (every submission below, two workers, sandbox on) is graded once per module; each
test reads its student's row, autograded notebook or the host file system.
"""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.sandbox.policy import Limits, bwrap_works
from tests.grading.fixture_course import (
    ASSIGNMENT,
    CUBE,
    FULL_MARKS,
    NOTEBOOK,
    SECOND_ASSIGNMENT,
    SECOND_NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    release_notebook,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-hostile")]

REWRITER = ("get_ipython().input_transformers_cleanup.append(\n"
            "    lambda lines: ['pass\\n'] if any('assert' in l for l in lines) else lines)\n")
WRONG = {"square": "def square(x):\n    return 0\n", "cube": "def cube(x):\n    return 0\n"}


def _without_grade_cells(root):
    nb = fill(root, **WRONG)
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    return nb


def _edited_tests(root):
    nb = fill(root, **WRONG)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass"
            cell.metadata.nbgrader["locked"] = False
            cell.metadata.nbgrader["points"] = 100
    return nb


def _duplicated_cells(root):
    nb = fill(root, **WRONG)
    cells = []
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            fake = copy.deepcopy(cell)
            fake.source = "print('passed')"
            cells.append(fake)  # the doctored copy comes first
        cells.append(cell)
    nb.cells = cells
    return nb


def _retyped_cells(root):
    nb = fill(root, **WRONG)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def _invented_grade_cell(root):
    nb = fill(root, **WRONG)
    nb.cells.append(copy.deepcopy(nb.cells[2]))
    nb.cells[-1].source = "pass"
    nb.cells[-1].metadata.nbgrader.update(grade_id="free_points", points=1000)
    return nb


def _wrong_assignment(root):
    chain = json.loads((root / "course" / SECOND_ASSIGNMENT / f"{SECOND_NOTEBOOK}.ipynb")
                       .read_text())
    return chain


def _probe_source(root: Path, work: Path, port: int) -> str:
    secrets = [root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
               REPO_ROOT / "solutions", work / "gradebook.db",
               work / "submitted" / "perfect" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
               Path.home() / ".bashrc"]
    targets = [root / "course" / "pwned.txt", REPO_ROOT / "pwned.txt", Path("/tmp/pwned.txt"),
               work / "pwned.txt"]
    return f"""
import os, socket
for path in {[str(p) for p in secrets]!r}:
    try:
        if os.path.isdir(path):
            print("SEEN" if os.listdir(path) else "HIDDEN", path)
        else:
            open(path, "rb").read(10)
            print("SEEN", path)
    except OSError:
        print("HIDDEN", path)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for path in {[str(p) for p in secrets]!r}:
    if libc.umount2(path.encode(), 2) == 0:  # MNT_DETACH: lift the tmpfs that hides it
        print("UNMOUNTED", path, os.listdir(path)[:3] if os.path.isdir(path) else "")
print("CAPABILITIES", open("/proc/self/status").read().split("CapEff:")[1].split()[0])
for path in {[str(p) for p in targets]!r}:
    try:
        with open(path, "w") as f:
            f.write("pwned")
        print("WROTE", path)
    except OSError:
        print("REFUSED", path)
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 80)]:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        print("NET-OPEN", host)
    except OSError:
        print("NET-BLOCKED", host)
    finally:
        s.close()
{SQUARE}"""


# student -> (what they hand in, expected score, expected outcome)
def corpus(root: Path, work: Path, port: int) -> dict:
    return {
        "perfect": (fill(root), FULL_MARKS, "graded"),
        "partly-right": (fill(root, square="def square(x):\n    return 2 * x\n"), 1.0, "graded"),
        "blank": (fill(root, square=None, cube=None), 0.0, "graded"),
        "edits-tests": (_edited_tests(root), 0.0, "graded"),
        "deletes-tests": (_without_grade_cells(root), 0.0, "graded"),
        "duplicates-cells": (_duplicated_cells(root), 0.0, "graded"),
        "retypes-cells": (_retyped_cells(root), 0.0, "graded"),
        "invents-grade-cell": (_invented_grade_cell(root), 0.0, "graded"),
        "hides-tracebacks": (fill(root, square="get_ipython().showtraceback = lambda *a, **k: None"
                                  "\n" + WRONG["square"], cube=WRONG["cube"]),
                             0.0, "graded"),
        # numpy patched in the kernel changes only the data it answers: every answer becomes
        # 9.0, as `return 9.0` would, which is right for the visible input 3 and nothing else
        "patches-numpy": (fill(root, square="import numpy as np\nnp.allclose = lambda *a, **k: True"
                               "\nnp.asarray = lambda x, dtype=None: np.array(9.0)\n"
                               + WRONG["square"], cube=WRONG["cube"]),
                          1.0, "graded"),
        "patches-coursekit": (fill(root, square="import coursekit.checks as ck\n"
                                   "ck.check_close = lambda *a, **k: None\n" + WRONG["square"],
                                   cube=WRONG["cube"]), 0.0, "graded"),
        "rewrites-test-source": (fill(root, square=REWRITER + WRONG["square"], cube=WRONG["cube"]),
                                 0.0, "graded"),
        # a builtin a test reads, shadowed: `abs(float(got) - 9.0) < 1e-12` passes for square
        "shadows-builtins": (fill(root, square=WRONG["square"] + "def abs(x):\n    return 0.0\n",
                                  cube=WRONG["cube"]), 0.0, "graded"),
        "always-equal": (fill(root, square="class Yes:\n    def __eq__(self, other): return True\n"
                              "    def __ne__(self, other): return False\n"
                              "def square(x):\n    return Yes()\n",
                              cube="def cube(x):\n    return square(x)\n"), 0.0, "graded"),
        "prints-passed": (fill(root, square=WRONG["square"] + "print('visible test passed')\n"
                               "print('All tests passed! 4/4')",
                               cube=WRONG["cube"]), 0.0, "graded"),
        "calls-sys-exit": (fill(root, square=WRONG["square"] + "import sys\nsys.exit(0)",
                                cube=WRONG["cube"] + "raise SystemExit"), 0.0, "graded"),
        "calls-os-exit": (fill(root, square=SQUARE, cube="import os\nos._exit(0)"),
                          3.0, "kernel died"),
        "kills-kernel": (fill(root, square="import os, signal\nos.kill(os.getpid(), "
                              "signal.SIGKILL)"), 0.0, "kernel died"),
        "loops-forever": (fill(root, square=SQUARE, cube="while True:\n    pass"),
                          3.0, "timed out"),
        # interrupted after its timeout: square is defined before the loop, and the notebook
        # carries on, so every test still runs
        "loops-then-answers": (fill(root, square=SQUARE + "while True:\n    pass", cube=CUBE),
                               FULL_MARKS, "timed out"),
        # ignores the interrupt: the notebook stops there, the tests after it score 0
        "ignores-interrupts": (fill(root, square="import signal\n"
                                    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                    "while True:\n    pass", cube=CUBE), 0.0, "timed out"),
        "eats-memory": (fill(root, square=SQUARE, cube="hog = []\nwhile True:\n"
                             "    hog.append(bytearray(50 * 1024 * 1024))"),
                        3.0, "killed for memory"),
        "floods-output": (fill(root, square=SQUARE + "for _ in range(200):\n"
                               "    print('x' * 100_000)"), FULL_MARKS, "graded"),
        "probes-sandbox": (fill(root, square=_probe_source(root, work, port)), FULL_MARKS,
                           "graded"),
        "broken-json": ('{"cells": [', 0.0, "invalid JSON"),
        "not-a-notebook": (json.dumps({"hello": "world"}), 0.0, "not a notebook"),
        "binary-file": (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", 0.0, "not a notebook"),
        "wrong-assignment": (_wrong_assignment(root), 0.0, "wrong assignment"),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    work = root / "work"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    subs = root / "submissions"
    table = corpus(root, work, port)
    for student, (content, _, _) in table.items():
        path = write_submission(subs, student, content)
        if student == "wrong-assignment":
            path.rename(path.with_name(f"{SECOND_NOTEBOOK}.ipynb"))
    missing = subs / "hands-in-nothing" / ASSIGNMENT
    missing.mkdir(parents=True)
    (missing / "notes.txt").write_text("I ran out of time")
    table["hands-in-nothing"] = (None, 0.0, "missing notebook")
    limits = Limits(cell_timeout=4, wall_clock=20, memory_mb=1024, output_bytes=100_000)
    rows = grade_batch(subs, BatchOptions(root=root, work=work, workers=2, limits=limits,
                                          require_sandbox=bwrap_works(), progress=False,
                                          assignments=[ASSIGNMENT, SECOND_ASSIGNMENT]))
    listener.close()
    return {"root": root, "work": work, "table": table,
            "rows": {r.key: r for r in rows}}


def _row(graded, student):
    return graded["rows"][(student, ASSIGNMENT)]


def _autograded(graded, student):
    path = graded["work"] / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    return json.loads(path.read_text())


def _text(nb) -> str:
    texts = [o.get("text", "") for c in nb["cells"] for o in c.get("outputs", [])]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


STUDENTS = ["perfect", "partly-right", "blank", "edits-tests", "deletes-tests",
            "duplicates-cells", "retypes-cells", "invents-grade-cell", "hides-tracebacks",
            "patches-numpy", "patches-coursekit", "rewrites-test-source", "shadows-builtins",
            "always-equal",
            "prints-passed", "calls-sys-exit", "calls-os-exit", "kills-kernel", "loops-forever",
            "loops-then-answers", "ignores-interrupts",
            "eats-memory", "floods-output", "probes-sandbox", "broken-json", "not-a-notebook",
            "binary-file", "wrong-assignment", "hands-in-nothing"]


@pytest.mark.parametrize("student", STUDENTS)
def test_each_submission_gets_its_expected_score_and_named_outcome(graded, student):
    _, score, outcome = graded["table"][student]
    row = _row(graded, student)
    assert (row.score, row.outcome.kind) == (score, outcome), row
    assert row.max_score == FULL_MARKS


def test_every_submission_is_recorded_once_and_the_batch_carries_on(graded):
    assert sorted(s for s, _ in graded["rows"]) == sorted(STUDENTS)


def test_deleted_test_cells_are_put_back_and_run(graded):
    nb = _autograded(graded, "deletes-tests")
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assert {"test_square", "test_square_hidden", "test_cube_hidden"} <= set(ids)


def test_test_cells_hold_only_the_verifiers_verdict(graded):
    """Nothing of the kernel's answers survives in a test cell: the grader's verdict alone."""
    from coursekit.core import ANSWER_MIME

    nb = _autograded(graded, "perfect")
    tests = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert tests and all(c["metadata"]["autograder"]["outcome"] == "passed" for c in tests)
    assert ANSWER_MIME not in json.dumps(tests)


def test_sandbox_hides_solutions_gradebook_other_students_and_home(graded):
    text = _text(_autograded(graded, "probes-sandbox"))
    if not bwrap_works():
        pytest.skip("bwrap cannot isolate kernels on this machine")
    assert "SEEN" not in text and text.count("HIDDEN") == 5, text
    assert "UNMOUNTED" not in text, text  # a grader run as root must not lend its kernels caps
    assert "CAPABILITIES 0000000000000000" in text, text


def test_sandbox_allows_no_writes_outside_scratch(graded):
    text = _text(_autograded(graded, "probes-sandbox"))
    if not bwrap_works():
        pytest.skip("bwrap cannot isolate kernels on this machine")
    assert "WROTE /tmp/pwned.txt" in text  # its own private /tmp, gone afterwards
    # Every write either fails or lands in the kernel's private /tmp (a checkout that itself
    # lives under /tmp, as CI runners often have it, is shadowed by that private /tmp).
    for line in text.splitlines():
        if line.startswith("WROTE "):
            assert line.startswith("WROTE /tmp/"), text
    assert text.count("REFUSED") + text.count("WROTE /tmp/") == 4, text
    assert text.count("REFUSED") >= 2, text  # at least course/ and the work folder
    root = graded["root"]
    for path in [root / "course" / "pwned.txt", REPO_ROOT / "pwned.txt",
                 Path("/tmp/pwned.txt"), graded["work"] / "pwned.txt"]:
        assert not path.exists(), path


def test_sandbox_has_no_network(graded):
    text = _text(_autograded(graded, "probes-sandbox"))
    if not bwrap_works():
        pytest.skip("bwrap cannot isolate kernels on this machine")
    assert "NET-OPEN" not in text and text.count("NET-BLOCKED") == 2, text


def test_output_is_truncated_not_stored_in_full(graded):
    path = graded["work"] / "autograded" / "floods-output" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert path.stat().st_size < 300_000
    assert "output truncated by the grader" in path.read_text()


def test_named_errors_say_what_happened_and_where(graded):
    detail = _row(graded, "broken-json").notebooks[NOTEBOOK].outcome.detail
    assert "broken-json/01-derivatives/square.ipynb" in detail and "line 1" in detail
    assert _row(graded, "patches-numpy").notebooks[NOTEBOOK].outcome.graded  # just wrong
    detail = _row(graded, "wrong-assignment").notebooks[NOTEBOOK].outcome.detail
    assert SECOND_ASSIGNMENT in detail
    detail = _row(graded, "loops-then-answers").notebooks[NOTEBOOK].outcome.detail
    assert "interrupted" in detail and "still ran" in detail, detail
    detail = _row(graded, "ignores-interrupts").notebooks[NOTEBOOK].outcome.detail
    assert "ignored the interrupt" in detail and "score 0" in detail, detail


def test_a_timed_out_cell_is_marked_where_it_happened(graded):
    cells = _autograded(graded, "loops-then-answers")["cells"]
    timed_out = [c for c in cells if any(o.get("ename") == "CellTimeoutError"
                                         for o in c.get("outputs", []))]
    assert len(timed_out) == 1 and "while True" in "".join(timed_out[0]["source"])


def test_release_notebook_is_what_students_start_from(graded):
    nb = release_notebook(graded["root"])
    assert "BEGIN HIDDEN TESTS" not in json.dumps(nb)
    assert CUBE not in json.dumps(nb)
