"""Manual grades, pending written answers and late work reach every export.

A tiny course with a written answer (2 points, graded by hand) and a due date: ada submits two
days late with everything right; bob hands in no notebook (a named error). Grading, then a
manual score and comment entered in nbgrader's gradebook (what formgrader writes), then the
exports are read back.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from tests.grading.fixture_course import (
    ASSIGNMENT,
    NOTEBOOK,
    _meta,
    fill,
    master_notebook,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-manual")]

BIN = Path(sys.executable).parent
COURSE_TOML = f"""
[assignments.{ASSIGNMENT}]
due = 2026-03-01T12:00:00Z

[late]
penalty_per_day = 0.1
max_penalty = 0.5
"""


def run(*args: str, expect_status: int = 0) -> str:
    """`autograder ARGS` from the command line; its output (and the status it must end with)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "autograder", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == expect_status, done.stdout + done.stderr
    return done.stdout + done.stderr


def written_course(root: Path) -> Path:
    """The fixture course's first assignment with a written answer worth 2 points."""
    from autograder.authoring.release import release

    master = master_notebook()
    master.cells.append(new_markdown_cell(
        "Why is `square` smooth?\n\n=== BEGIN MARK SCHEME ===\nIt is a polynomial.\n"
        "=== END MARK SCHEME ===\n\nYOUR ANSWER HERE",
        metadata=_meta("why_smooth", solution=True, grade=True, points=2)))
    folder = root / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(master, folder / f"{NOTEBOOK}.ipynb")
    (root / "course.toml").write_text(COURSE_TOML)
    (root / "work").mkdir()
    release([ASSIGNMENT], root=root)
    return root


def grades_csv(root: Path) -> dict[str, dict]:
    with open(root / "work" / "export" / "grades.csv") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def test_manual_grades_pending_answers_and_late_work_in_every_export(tmp_path):
    from nbgrader.api import Gradebook

    root = written_course(tmp_path / "course")
    subs = tmp_path / "subs"
    nb = fill(root)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "why_smooth":
            cell.source = "Because it is a polynomial."
    write_submission(subs, "ada", nb)
    (subs / "ada" / ASSIGNMENT / "timestamp.txt").write_text("2026-03-03 11:00:00.000000 UTC")
    (subs / "bob" / ASSIGNMENT).mkdir(parents=True)
    (subs / "bob" / ASSIGNMENT / "notes.txt").write_text("forgot the notebook")

    table = run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    ada_line = next(line for line in table.splitlines() if line.startswith("ada"))
    assert "2 pts pending by hand" in ada_line and "late by 47.0 h (-0.8 points)" in ada_line
    assert "3.2 / 6" in ada_line  # 4 autograded points less 2 days x 10 %
    # a named error still has an autograded notebook, so formgrader lists and opens it
    assert (root / "work" / "autograded" / "bob" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()

    run("export", "--root", str(root))
    rows = grades_csv(root)
    assert rows["max points"][ASSIGNMENT] == "6"
    assert rows["ada"][ASSIGNMENT] == "3.2" and rows["ada"]["pending"] == (
        f"{ASSIGNMENT}: 2 points by hand")
    assert "late by 47.0 h" in rows["ada"]["late"]
    assert rows["bob"][ASSIGNMENT] == "0" and rows["bob"]["pending"] == ""
    results = json.loads((root / "work" / "export" / "gradescope" / "ada" / ASSIGNMENT /
                          "results.json").read_text())
    written = next(t for t in results["tests"] if t["name"].endswith("why_smooth"))
    assert written["output"] == "written answer: pending (graded by hand)"
    junit = ET.parse(root / "work" / "export" / "junit.xml")
    case = next(c for c in junit.iter("testcase") if c.get("name").endswith("why_smooth"))
    assert case.find("skipped") is not None and case.find("failure") is None

    with Gradebook(f"sqlite:///{root / 'work' / 'gradebook.db'}") as gb:  # as formgrader does
        grade = gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT, "ada")
        grade.manual_score = 1.5
        gb.find_comment("why_smooth", NOTEBOOK, ASSIGNMENT, "ada").manual_comment = "Say why."
        gb.db.commit()
    run("export", "--root", str(root))
    rows = grades_csv(root)
    # the late penalty follows the score as it is now, as nbgrader's own feedback recomputes
    # it (AssignLatePenalties): 20 % of 5.5 (it was 20 % of the 4 autograded points)
    assert rows["ada"][ASSIGNMENT] == "4.4" and rows["ada"]["pending"] == ""
    results = json.loads((root / "work" / "export" / "gradescope" / "ada" / ASSIGNMENT /
                          "results.json").read_text())
    written = next(t for t in results["tests"] if t["name"].endswith("why_smooth"))
    assert written["score"] == 1.5 and "Say why." in written["output"]
    assert results["score"] == pytest.approx(4.4)

    run("feedback", "--root", str(root))
    page = (root / "work" / "feedback" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "Graded by hand: 1.5 / 2 points" in page and "Say why." in page
    assert "Score with grading by hand: 5.5 / 6" in page and "late by 47.0 h" in page
    assert "BEGIN HIDDEN TESTS" not in page


def test_the_late_text_says_minutes_for_a_short_delay_and_points_for_the_penalty():
    from autograder.gradebook.view import GradebookEntry

    def late(seconds, penalty=0.0):
        return GradebookEntry("ada", "01", 10.0, 14.0, penalty, None, seconds).late_text()

    assert late(0) == ""
    assert late(120, 1.4) == "late by 2 min (-1.4 points)"
    assert late(10) == "late by 1 min"
    assert late(47 * 3600, 0.8) == "late by 47.0 h (-0.8 points)"
    assert late(72 * 3600) == "late by 3.0 days"
