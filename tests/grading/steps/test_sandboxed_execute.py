"""SandboxedExecute: runs a notebook in a limited kernel; a looping cell costs only itself,
a dead kernel stops the notebook with a named failure, and an output flood is cut off.

These start a real kernel (resource limits only, no bwrap: the isolation has its own tests in
tests/grading/test_sandbox.py), about a second each.
"""

import json

from nbformat.v4 import new_code_cell

from autograder.grading.outcome import KERNEL_DIED, TIMED_OUT
from autograder.grading.steps.sandboxed_execute import SandboxedExecute
from autograder.sandbox.policy import Limits, Sandbox

from .cells import notebook, run


def execute(tmp_path, *sources, **limits):
    sandbox = Sandbox(hidden=[], limits=Limits(**{"cell_timeout": 10, "wall_clock": 60,
                                                  **limits}),
                      use_bwrap=False, warm_kernels=False)
    nb = notebook(*[new_code_cell(s) for s in sources])
    resources = {"autograder": {}, "metadata": {"path": str(tmp_path)}}
    nb, resources = run(SandboxedExecute, nb, resources, sandbox=sandbox)
    return nb, resources["autograder"]


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_cells_run_in_order_and_each_reply_is_recorded(tmp_path):
    nb, info = execute(tmp_path, "x = 6 * 7\nprint(x)", "1 / 0", "print(x + 1)")
    assert info["executed"] == {0: "ok", 1: "error", 2: "ok"}
    assert text(nb.cells[0]) == "42\n" and text(nb.cells[2]) == "43\n"
    assert nb.cells[1].outputs[0].ename == "ZeroDivisionError"
    assert "failure" not in info and set(info["timings"]) == {
        "kernel start", "cells + kernel stop", "test cells", "requests to the kernel"}


def test_a_looping_cell_is_interrupted_and_the_next_cells_still_run(tmp_path):
    nb, info = execute(tmp_path, "while True:\n    pass", "print('after')", cell_timeout=2)
    assert info["failure"] == TIMED_OUT and not info.get("stopped")
    assert nb.cells[0].outputs[-1].ename == "CellTimeoutError"
    assert text(nb.cells[1]) == "after\n"


def test_a_dead_kernel_stops_the_notebook_with_a_named_failure(tmp_path):
    nb, info = execute(tmp_path, "import os\nos._exit(3)", "print('never')")
    assert info["failure"] == KERNEL_DIED and info["stopped"]
    assert nb.cells[0].outputs[-1].ename == "DeadKernelError"
    assert nb.cells[1].get("execution_count") is None and text(nb.cells[1]) == ""


def test_output_beyond_the_budget_is_dropped_as_it_arrives(tmp_path):
    nb, _ = execute(tmp_path, "for i in range(20000):\n    print(i)", output_bytes=5_000)
    shown = text(nb.cells[0])
    assert "output truncated by the grader" in shown and len(shown) < 10_000


def test_disabled_it_runs_nothing():
    sandbox = Sandbox(hidden=[], use_bwrap=False, warm_kernels=False)
    nb, resources = run(SandboxedExecute, notebook(new_code_cell("print(1)")),
                        {"autograder": {}}, sandbox=sandbox, enabled=False)
    assert nb.cells[0].outputs == [] and "executed" not in resources["autograder"]


# ----------------------------------------------------------------------------- test cells


SPY = """
import json
import coursekit.answer
heard = []
_answer = coursekit.answer.answer_request
def _spy(text):
    heard.append(text)
    _answer(text)
coursekit.answer.answer_request = _spy
"""
TEST_SOURCE = ("check_values(square, np.square, [(3.0,)], 'square')\nprint('✓ square')\n"
               "### BEGIN HIDDEN TESTS\n"
               "check_values(square, np.square, [(-1.5,), (2.5,)], 'square')\n"
               "### END HIDDEN TESTS")


def graded_run(tmp_path, square_source, after="print(json.dumps(heard)); print(repr(_ih))"):
    """A notebook whose kernel spies on the requests it gets: answer, spy, test, report."""
    from autograder.grading.graded_tests import GradedTests

    from .cells import answer_cell, grade_cell

    sandbox = Sandbox(hidden=[], limits=Limits(cell_timeout=10, wall_clock=60),
                      use_bwrap=False, warm_kernels=False)
    nb = notebook(answer_cell(square_source), new_code_cell(SPY),
                  grade_cell("print('the submission\'s own copy of the test')"),
                  new_code_cell(after))
    tests = GradedTests({"test_square": TEST_SOURCE},
                        "import numpy as np\nfrom coursekit.checks import check_values")
    resources = {"autograder": {"graded_tests": tests}, "metadata": {"path": str(tmp_path)}}
    nb, resources = run(SandboxedExecute, nb, resources, sandbox=sandbox)
    return nb, resources["autograder"]


def test_a_test_cell_runs_in_the_grader_and_the_kernel_hears_only_inputs(tmp_path):
    nb, info = graded_run(tmp_path, "def square(x):\n    return x * x")
    verdict = info["verdicts"]["test_square"]
    assert verdict.passed and verdict.output == "✓ square\n"
    assert info["requests"] == 3
    heard_line, history = text(nb.cells[3]).splitlines()
    heard = [json.loads(t) for t in json.loads(heard_line)]
    assert [h["args"]["args"] for h in heard] == [[3.0], [-1.5], [2.5]]
    for secret in ("np.square", "HIDDEN", "check_values", "✓", "6.25", "own copy"):
        assert secret not in heard_line + history, secret
    assert nb.cells[2].outputs == []  # neither copy of the test ran in the kernel


def test_a_wrong_answer_is_judged_in_the_grader(tmp_path):
    _, info = graded_run(tmp_path, "def square(x):\n    return x * abs(x)")
    verdict = info["verdicts"]["test_square"]
    assert not verdict.passed and "expected 2.25, got -2.25" in verdict.message


def test_code_that_loops_on_one_request_is_interrupted_and_the_notebook_goes_on(tmp_path):
    nb, info = graded_run(tmp_path, "def square(x):\n    while x < 0:\n        pass\n"
                          "    return x * x", after="print('after')")
    verdict = info["verdicts"]["test_square"]
    assert not verdict.passed and "interrupted" in verdict.message
    assert text(nb.cells[3]) == "after\n"


def test_a_kernel_that_dies_answering_stops_the_notebook(tmp_path):
    nb, info = graded_run(tmp_path, "import os\ndef square(x):\n    os._exit(1)")
    assert info["failure"] == KERNEL_DIED and info["stopped"]
    assert info["verdicts"]["test_square"].ename == "DeadKernelError"
