"""StripForeignGradeIds: a grade cell the master does not have becomes an ordinary cell."""

from autograder.grading.steps.strip_foreign_grade_ids import StripForeignGradeIds

from .cells import answer_cell, grade_cell, notebook, run
from .cells import nbgrader as with_nbgrader


def test_an_invented_grade_cell_loses_its_nbgrader_metadata():
    invented = grade_cell("print('1000 points')", grade_id="bonus", points=1000)
    nb = notebook(answer_cell(), grade_cell(), invented)
    nb, _ = run(StripForeignGradeIds, nb, {"autograder": {"known_ids": {"square",
                                                                        "test_square"}}})
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells] == [
        "square", "test_square", None]
    assert "nbgrader" not in nb.cells[2].metadata
    assert nb.cells[2].source == "print('1000 points')"  # the cell itself stays


def test_nbgrader_metadata_without_a_grade_id_is_dropped_too():
    cell = with_nbgrader(answer_cell(), grade_id=None)
    del cell.metadata.nbgrader["grade_id"]
    nb, _ = run(StripForeignGradeIds, notebook(cell), {"autograder": {"known_ids": {"square"}}})
    assert "nbgrader" not in nb.cells[0].metadata


def test_cells_without_nbgrader_metadata_are_left_alone():
    nb = notebook()
    before = nb.cells[0].copy()
    nb, _ = run(StripForeignGradeIds, nb, {"autograder": {"known_ids": set()}})
    assert nb.cells[0] == before
