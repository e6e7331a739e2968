"""SandboxedExecute: runs a notebook in a limited kernel; a looping cell costs only itself,
a dead kernel stops the notebook with a named failure, and an output flood is cut off.

These start a real kernel (resource limits only, no bwrap: the isolation has its own tests in
tests/grading/test_sandbox.py), about a second each.
"""

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
    assert "failure" not in info and set(info["timings"]) == {"kernel start",
                                                              "cells + kernel stop"}


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
