"""ErrorsFirst: a test cell's errors and stderr come first, where nbgrader looks."""

from nbgrader import utils

from autograder.grading.steps.errors_first import ErrorsFirst

from .cells import error, grade_cell, notebook, run, stderr, stdout


def test_errors_and_stderr_move_in_front_keeping_their_order():
    outputs = [stdout("partial credit: 2.0\n"), stderr("warning\n"), stdout("more\n"), error()]
    nb, _ = run(ErrorsFirst, notebook(grade_cell(outputs=outputs)))
    assert [(o.output_type, o.get("name")) for o in nb.cells[0].outputs] == [
        ("stream", "stderr"), ("error", None), ("stream", "stdout"), ("stream", "stdout")]
    assert utils.determine_grade(nb.cells[0]) == (0, 2)


def test_a_passing_cell_and_a_non_grade_cell_are_untouched():
    passing = grade_cell(outputs=[stdout("ok\n")])
    other = grade_cell(outputs=[stdout("x\n"), error()])
    del other.metadata["nbgrader"]
    nb, _ = run(ErrorsFirst, notebook(passing, other))
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream"]
    assert [o.output_type for o in nb.cells[1].outputs] == ["stream", "error"]


def test_disabled_it_does_nothing():
    outputs = [stdout("partial credit\n"), error()]
    nb, _ = run(ErrorsFirst, notebook(grade_cell(outputs=outputs)), enabled=False)
    assert [o.output_type for o in nb.cells[0].outputs] == ["stream", "error"]
