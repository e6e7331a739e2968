"""Fixing an assignment after release: `grade` warns that course/ is stale (until `release`),
and a submission made from the older release is graded against the current masters.

(Adding an exercise after submissions exist is not covered: nbgrader's SaveCells refuses to add
cells to a notebook that has submissions in the gradebook.)"""

from __future__ import annotations

import sqlite3

import nbformat
import pytest

from tests.course.test_manual_and_late import run
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, fill, make_course, write_submission

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
