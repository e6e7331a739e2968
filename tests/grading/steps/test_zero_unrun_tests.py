"""ZeroUnrunTests: a test cell that never ran scores 0, and says why."""

from nbgrader import utils

from autograder.grading.outcome import TIMED_OUT
from autograder.grading.steps.zero_unrun_tests import ZeroUnrunTests

from .cells import grade_cell, notebook, run


def test_an_unrun_test_cell_scores_zero_with_the_reason():
    nb = notebook(grade_cell(execution_count=1), grade_cell(grade_id="test_cube",
                                                              execution_count=None))
    assert utils.determine_grade(nb.cells[1]) == (2, 2)  # no output: nbgrader gives full marks
    nb, _ = run(ZeroUnrunTests, nb, {"autograder": {"failure": TIMED_OUT}})
    assert nb.cells[0].outputs == []
    first = nb.cells[1].outputs[0]
    assert (first.ename, first.evalue) == ("NotRun", "this test did not run (timed out); it "
                                                     "scores 0")
    assert utils.determine_grade(nb.cells[1]) == (0, 2)


def test_without_a_named_failure_the_reason_is_not_run():
    nb, _ = run(ZeroUnrunTests, notebook(grade_cell(execution_count=None)))
    assert "(not run)" in nb.cells[0].outputs[0].evalue


def test_ordinary_unrun_cells_are_left_alone():
    cell = grade_cell(execution_count=None)
    del cell.metadata["nbgrader"]
    nb, _ = run(ZeroUnrunTests, notebook(cell))
    assert nb.cells[0].outputs == []
