"""InsertGuardCells: the guard installs first, checks before each test and at the end, and
records what each locked cell binds."""

from autograder.grading.steps.insert_guard_cells import InsertGuardCells
from autograder.guard import GUARD_KEY

from .cells import answer_cell, grade_cell, notebook, run, setup_cell


def roles(nb):
    return [c.metadata.get(GUARD_KEY) or c.metadata.get("nbgrader", {}).get("grade_id")
            for c in nb.cells]


def test_guard_cells_go_around_the_graded_and_locked_cells():
    nb = notebook(setup_cell(), answer_cell(), grade_cell("assert square(3) == 9\nabs(-1)"))
    nb, resources = run(InsertGuardCells, nb)
    # a test cell binds no names here, so it needs no record after it
    assert roles(nb) == ["install", "setup", "record", "square", "check", "test_square", "check"]
    nonce = resources["autograder"]["nonce"]
    assert nonce in nb.cells[0].source
    check = nb.cells[4].source
    assert "'test_square'" in check and "'abs'" in check and "'square'" in check
    record = nb.cells[2].source
    assert "'np'" in record and "'sqrt'" in record and "after setup" in record
    assert "the end of the notebook" in nb.cells[-1].source


def test_a_given_nonce_is_kept_and_a_solution_cell_gets_no_record():
    nb, resources = run(InsertGuardCells, notebook(answer_cell()),
                        {"autograder": {"nonce": "abc123"}})
    assert resources["autograder"]["nonce"] == "abc123"
    assert roles(nb) == ["install", "square", "check"]
    assert "'abc123'" in nb.cells[0].source


def test_the_guard_cells_are_valid_python():
    nb, _ = run(InsertGuardCells, notebook(setup_cell(), answer_cell(), grade_cell()))
    for cell in nb.cells:
        if cell.metadata.get(GUARD_KEY):
            compile(cell.source, cell.metadata[GUARD_KEY], "exec")
