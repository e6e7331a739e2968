"""SkipTeachingCells stores what to skip from the master; SandboxedExecute leaves it unrun."""

from __future__ import annotations

import copy

from nbformat.v4 import new_code_cell

from autograder.grading.steps.sandboxed_execute import SandboxedExecute
from autograder.grading.steps.skip_teaching_cells import SkipTeachingCells
from autograder.grading.teaching_cells import TEACHING_TAG
from autograder.sandbox.policy import Limits, Sandbox

from .cells import answer_cell, grade_cell, notebook, run, setup_cell


def master():
    demo = setup_cell("DEMO = 2\nprint('demo')", grade_id="demo")
    demo.metadata["tags"] = [TEACHING_TAG]
    return notebook(setup_cell("import math"), demo, answer_cell(),
                    grade_cell("assert square(3) == 9"))


def test_the_step_stores_the_masters_teaching_cells_and_why_others_run():
    nb = copy.deepcopy(master())
    resources = {"autograder": {"master_notebook": master()}}
    _, resources = run(SkipTeachingCells, nb, resources)
    assert resources["autograder"]["skip_cells"] == {1}
    assert resources["autograder"]["teaching_cells"] == {"skipped": ["demo"], "run": {}}

    nb.cells[2].source = "def square(x):\n    return x * x * DEMO // 2"
    _, resources = run(SkipTeachingCells, nb, {"autograder": {"master_notebook": master()}})
    assert resources["autograder"]["skip_cells"] == set()
    assert "`DEMO`" in resources["autograder"]["teaching_cells"]["run"]["demo"]


def test_without_a_master_file_every_cell_runs():
    _, resources = run(SkipTeachingCells, master(), {"autograder": {"master_notebook": None}})
    assert resources["autograder"]["skip_cells"] == set()


def test_sandboxed_execute_leaves_the_skipped_cells_unrun(tmp_path):
    sandbox = Sandbox(hidden=[], limits=Limits(cell_timeout=10, wall_clock=60),
                      use_bwrap=False, warm_kernels=False)
    nb = notebook(*[new_code_cell(s) for s in ("x = 1", "print('skipped')", "print(x + 1)")])
    resources = {"autograder": {"skip_cells": {1}}, "metadata": {"path": str(tmp_path)}}
    nb, resources = run(SandboxedExecute, nb, resources, sandbox=sandbox)
    assert resources["autograder"]["executed"] == {0: "ok", 2: "ok"}
    assert nb.cells[1].outputs == [] and nb.cells[1].get("execution_count") is None
    assert nb.cells[2].outputs[0].text == "2\n"
