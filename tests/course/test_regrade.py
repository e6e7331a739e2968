"""Regrade control: --force, --student, --notebook; a change to the masters, coursekit or the
limits makes grades stale in every source folder, and `grade` says so and regrades them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.gradebook.batch import grading_basis
from autograder.sandbox.policy import Limits
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, fill, make_course, write_submission

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-regrade")]

BIN = Path(sys.executable).parent


def grade(root: Path, folder: Path, *extra: str, code: int = 0) -> str:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--root",
                           str(root), "--workers", "2", "--quiet", *extra], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout + done.stderr


def ledger(root: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(root / "work" / "gradebook.db") as con:
        return {s: (t, b) for s, t, b in con.execute(
            "SELECT student, graded_at, basis FROM autograder_ledger")}


def max_score(root: Path, student: str) -> float:
    with sqlite3.connect(root / "work" / "gradebook.db") as con:
        return con.execute("SELECT detail FROM autograder_ledger WHERE student = ?",
                           (student,)).fetchone()[0]


def test_the_basis_covers_masters_coursekit_and_limits():
    base = grading_basis("masters", "kit", Limits())
    assert len({base, grading_basis("masters2", "kit", Limits()),
                grading_basis("masters", "kit2", Limits()),
                grading_basis("masters", "kit", Limits(wall_clock=10))}) == 4


def test_force_student_notebook_and_stale_grades_from_every_folder(tmp_path):
    root = make_course(tmp_path / "course")
    first, second = tmp_path / "first", tmp_path / "second"
    write_submission(first, "ada", fill(root))
    write_submission(second, "bob", fill(root))
    grade(root, first)
    grade(root, second)
    graded = ledger(root)
    assert "1 submission(s) already graded and unchanged: skipped" in grade(root, second)
    assert ledger(root) == graded

    out = grade(root, second, "--force")
    assert "skipped" not in out and ledger(root)["ada"] == graded["ada"]

    # the limits change: both grades are stale, ada's from its copy of the first folder
    out = grade(root, second, "--timeout", "90")
    assert "2 recorded grade(s) are stale" in out
    assert "1 from the copies collected from earlier folders" in out
    after = ledger(root)
    assert after["ada"][1] == after["bob"][1] != graded["ada"][1]

    # the masters change (cube's hidden test is worth 2 now): every grade against them is stale
    master = root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.metadata["nbgrader"]["grade_id"] == "test_cube_hidden":
            cell.metadata["nbgrader"]["points"] = 2
    nbformat.write(nb, master)
    out = grade(root, first, "--timeout", "90")
    assert "2 recorded grade(s) are stale" in out
    for student in ("ada", "bob"):
        assert '"max_score": 5.0, "notebooks"' in max_score(root, student)

    before = ledger(root)
    out = grade(root, first, "--timeout", "90", "--student", "ada", "--notebook", NOTEBOOK)
    assert ledger(root)["bob"] == before["bob"] and ledger(root)["ada"] != before["ada"]
    out = grade(root, first, "--timeout", "90", "--notebook", "nope", code=2)
    assert "--notebook nope: no such notebook" in out
