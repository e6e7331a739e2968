"""Fixing an assignment after release: `grade` warns that course/ is stale (until `release`),
and a submission made from the older release is graded against the current masters, also
when an exercise was added or removed after submissions were graded (answers and grades by
hand kept, the new exercise scored 0 with a named warning, never "not a notebook")."""

from __future__ import annotations

import sqlite3

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from tests.course.test_manual_and_late import run
from tests.grading.fixture_course import (
    ASSIGNMENT,
    NOTEBOOK,
    _meta,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-fix-after-release")]


def test_a_fix_after_release_warns_that_course_is_stale_and_grades_by_the_masters(tmp_path):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "ada", fill(root))  # from the release as first handed out
    out = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    assert "is stale" not in out

    master_path = root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    master = nbformat.read(master_path, as_version=4)
    hidden = next(c for c in master.cells
                  if c.metadata["nbgrader"]["grade_id"] == "test_cube_hidden")
    hidden.metadata["nbgrader"]["points"] = 2  # a fix after release: cube is worth more
    master.cells[0].source += "\n\nCorrected after release."
    nbformat.write(master, master_path)
    out = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    assert f"warning: course/{ASSIGNMENT} is stale" in out
    ada = next(line for line in out.splitlines() if line.startswith("ada"))
    assert "5 / 5" in ada, out  # graded against the current masters
    with sqlite3.connect(root / "work" / "gradebook.db") as con:
        (detail,) = con.execute("SELECT detail FROM autograder_ledger").fetchone()
    assert "not a notebook" not in detail

    run("release", "--root", str(root))
    out = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    assert "is stale" not in out


def _add_quad_exercise(root):
    """A fix after release: a 1-point exercise `quad` (answer cell and hidden test)."""
    master_path = root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    master = nbformat.read(master_path, as_version=4)
    master.cells[5:5] = [
        new_code_cell("def quad(x):\n    ### BEGIN SOLUTION\n    return x ** 4\n"
                      "    ### END SOLUTION", metadata=_meta("quad", solution=True)),
        new_code_cell("from coursekit.checks import check_values\n### BEGIN HIDDEN TESTS\n"
                      "check_values(quad, lambda x: x ** 4, [(2.0,), (-0.5,)], 'quad')\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test_quad", grade=True, locked=True, points=1))]
    nbformat.write(master, master_path)


def _line(out, student):
    return next(line for line in out.splitlines() if line.startswith(student + " "))


def test_an_exercise_added_after_grading_keeps_answers_and_hand_grades(tmp_path):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "ada", fill(root))  # from the first release
    run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    db_url = f"sqlite:///{root / 'work' / 'gradebook.db'}"
    with Gradebook(db_url) as gb:  # a TA lowers one test's score by hand
        grade = gb.find_grade("test_square_hidden", NOTEBOOK, ASSIGNMENT, "ada")
        grade.manual_score = 1.5
        gb.db.commit()

    _add_quad_exercise(root)
    out = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    assert "cells added after submissions: quad, test_quad" in out, out
    assert "3.5 / 5" in _line(out, "ada"), out  # 1 + 1.5 by hand + 1 + 0 for quad
    assert "with a warning" in _line(out, "ada"), out
    assert "put back as released: quad, test_quad." in out
    assert "The answer cells among them (quad) are stubs" in out
    assert "not a notebook" not in out and "grading failed" not in out
    with Gradebook(db_url) as gb:
        kept = gb.find_grade("test_square_hidden", NOTEBOOK, ASSIGNMENT, "ada")
        assert kept.manual_score == 1.5  # the hand grade survived the new cells
        new = gb.find_grade("test_quad", NOTEBOOK, ASSIGNMENT, "ada")
        assert new.auto_score == 0 and new.max_score == 1
    run("feedback", "--root", str(root))  # the student is told, on the page itself
    page = (root / "work" / "feedback" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "Note from the grader:" in page and "put back as released: quad, test_quad" in page

    run("release", "--root", str(root))  # the fixed release; bob does the new exercise too
    nb = fill(root)
    quad = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "quad")
    quad.source = "def quad(x):\n    return x ** 4\n"
    write_submission(subs, "bob", nb)
    out = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    assert "5 / 5" in _line(out, "bob") and "warning" not in _line(out, "bob"), out


def test_an_exercise_removed_after_grading_regrades_without_it(tmp_path):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "ada", fill(root, cube="def cube(x):\n    return 0\n"))
    run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    master_path = root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    master = nbformat.read(master_path, as_version=4)
    master.cells = master.cells[:4]  # cube and its test are dropped
    nbformat.write(master, master_path)
    out = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    assert "cells removed: cube, test_cube_hidden" in out, out
    assert "3 / 3" in _line(out, "ada") and "warning" not in _line(out, "ada"), out
