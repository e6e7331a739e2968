"""Grading skips a master's teaching-only cell, except for a student whose answer reads it.

The fixture course's master gains a locked cell tagged teaching-only that defines `SCALE` and
prints a line. ada's answers read nothing of it: her graded notebook shows the cell unrun. bob's
`square` multiplies by `SCALE` (right only with it): the cell runs for him, and he scores as
ada does. cy tags his own answer cell teaching-only: it runs all the same.
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.authoring.release import release
from autograder.grading.teaching_cells import TEACHING_TAG
from tests.course.test_manual_and_late import run
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SECOND_ASSIGNMENT,
    _meta,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-teaching-cells")]

TEACHING = "SCALE = 1.0\nprint('the teaching cell ran')"


def course_with_a_teaching_cell(root):
    make_course(root)
    path = root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    master = nbformat.read(path, as_version=4)
    cell = new_code_cell(TEACHING, metadata=_meta("scale_demo", locked=True))
    cell.metadata["tags"] = [TEACHING_TAG]
    master.cells.insert(1, cell)
    nbformat.write(master, path)
    release([ASSIGNMENT, SECOND_ASSIGNMENT], root=root)
    return root


def cell_text(nb, grade_id):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def test_a_teaching_cell_is_skipped_unless_an_answer_reads_it(tmp_path):
    root = course_with_a_teaching_cell(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "ada", fill(root))
    write_submission(subs, "bob", fill(root, square="def square(x):\n    return x * x * SCALE\n"))
    cy = fill(root)
    for cell in cy.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "square":
            cell.metadata["tags"] = [TEACHING_TAG]
    write_submission(subs, "cy", cy)
    out = run("grade", str(subs), "--root", str(root), "--workers", "2")
    for student in ("ada", "bob", "cy"):
        line = next(s for s in out.splitlines() if s.startswith(student))
        assert f"{FULL_MARKS:g} / {FULL_MARKS:g}" in line, out
    graded = {s: nbformat.read(root / "work" / "autograded" / s / ASSIGNMENT /
                               f"{NOTEBOOK}.ipynb", as_version=4) for s in ("ada", "bob")}
    assert cell_text(graded["ada"], "scale_demo") == ""  # skipped: no test needs it
    assert cell_text(graded["bob"], "scale_demo") == "the teaching cell ran\n"
