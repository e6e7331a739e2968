"""ZeroOnTampering: tampering found by the guard zeroes every test of the notebook."""

from nbgrader import utils

from autograder.grading.steps.zero_on_tampering import ZeroOnTampering

from .cells import answer_cell, grade_cell, notebook, run, stdout


def test_tampering_zeroes_every_test_cell_and_names_what_changed():
    nb = notebook(answer_cell(), grade_cell(outputs=[stdout("ok\n")]),
                  grade_cell(grade_id="test_cube"))
    nb, _ = run(ZeroOnTampering, nb, {"autograder": {"tampering": "numpy.allclose changed"}})
    assert nb.cells[0].outputs == []  # the answer cell is not a test
    for cell in nb.cells[1:]:
        assert (cell.outputs[0].ename, cell.outputs[0].evalue) == (
            "TamperingDetected", "numpy.allclose changed")
        assert utils.determine_grade(cell) == (0, 2)


def test_no_tampering_changes_nothing():
    nb, _ = run(ZeroOnTampering, notebook(grade_cell(outputs=[stdout("ok\n")])),
                {"autograder": {"tampering": None}})
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream"]
    assert utils.determine_grade(nb.cells[0]) == (2, 2)
