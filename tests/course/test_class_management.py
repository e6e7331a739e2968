"""Remove and rename a student everywhere; the Canvas gradebook CSV; grades.csv's rows."""

from __future__ import annotations

import csv
import sqlite3

import pytest
from nbgrader.api import Gradebook

from tests.course.test_manual_and_late import run, written_course
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, fill, write_submission

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-class")]


def read(path):
    with open(path) as fh:
        return list(csv.reader(fh))


def test_remove_and_rename_reach_gradebook_ledger_folders_and_exports(tmp_path):
    root = written_course(tmp_path / "course")
    subs = tmp_path / "subs"
    for student in ("ada", "bob", "cy"):
        write_submission(subs, student, fill(root, cube=None if student == "cy" else
                                             "def cube(x):\n    return x ** 3\n"))
    run("grade", str(subs), "--root", str(root), "--workers", "2", "--quiet")
    work = root / "work"

    run("student", "remove", "ada", "--root", str(root))
    run("student", "rename", "bob", "robert", "--root", str(root))
    with sqlite3.connect(work / "gradebook.db") as con:
        assert sorted(r[0] for r in con.execute("SELECT id FROM student")) == ["cy", "robert"]
        assert sorted(r[0] for r in con.execute(
            "SELECT student FROM autograder_ledger")) == ["cy", "robert"]
        assert con.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone() == (2,)
    assert not (work / "autograded" / "ada").exists()
    assert (work / "autograded" / "robert" / ASSIGNMENT).is_dir()
    assert not (work / "submitted" / "bob").exists()

    run("export", "--root", str(root))
    grades = read(work / "export" / "grades.csv")
    assert grades[0] == ["student", ASSIGNMENT, "total", "pending", "late"]
    assert grades[1][:3] == ["max points", "6", "6"]
    assert [r[0] for r in grades[2:]] == ["cy", "robert"]
    canvas = read(work / "export" / "canvas.csv")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert canvas[1] == ["Points Possible", "", "", "", "", "6"]
    assert {r[3]: r[5] for r in canvas[2:]} == {"cy": "3", "robert": "4"}

    # the same folder graded again (as an exchange's inbound keeps it): ada stays out, bob's
    # work is robert's, with his grade by hand kept; nobody comes back under an old id
    db_url = f"sqlite:///{work / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT, "robert").manual_score = 0.5
        gb.db.commit()
    out = run("grade", str(subs), "--root", str(root), "--workers", "2", "--quiet", "--force")
    assert "ada/" in out and "was removed from the class" in out
    assert "bob/" in out and "graded as robert" in out
    with sqlite3.connect(work / "gradebook.db") as con:
        assert sorted(r[0] for r in con.execute("SELECT id FROM student")) == ["cy", "robert"]
        assert sorted(r[0] for r in con.execute(
            "SELECT student FROM autograder_ledger")) == ["cy", "robert"]
    with Gradebook(db_url) as gb:
        assert gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT, "robert").manual_score == 0.5
    assert not (work / "submitted" / "bob").exists() and not (work / "autograded" / "ada").exists()


def test_report_is_one_html_page_with_plots(tmp_path):
    root = written_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "ada", fill(root))
    write_submission(subs, "bob", fill(root, square="def square(x):\n    return 2 * x\n",
                                       cube=None))
    (subs / "ada" / ASSIGNMENT / "timestamp.txt").write_text("2026-03-02 12:00:00.000000 UTC")
    run("grade", str(subs), "--root", str(root), "--workers", "2", "--quiet")
    run("report", "--root", str(root))
    page = (root / "work" / "report.html").read_text()
    for heading in ("Score distribution per assignment", "Mean score per exercise",
                    "Where the class is stuck", "Not implemented", "Hints that fired, per test",
                    "Answers computed by a library or the kit", "Named errors",
                    "Late submissions (1)", "Grading time"):
        assert heading in page
    # two students, one notebook each, graded with one kernel each
    assert "about 0." in page and "for this class on this machine (2 student(s) x 1" in page
    assert "<td>01-derivatives/square</td><td>2</td>" in page
    # bob's wrong square fails both its tests; check_values names no specific bug
    assert ("<tr><td>01-derivatives/square: test_square</td><td>1</td><td>no specific hint"
            in page), page
    # bob's unfinished cube is not implemented, not a wrong answer
    stuck = page.split("Where the class is stuck")[1].split("<h2>")[0]
    assert "<li>01-derivatives/square: test_cube_hidden: 1</li>" in page
    assert "None: every notebook was graded." in page  # no empty chart for no errors
    # one histogram (one assignment), mean score and where the class is stuck
    assert page.count("data:image/png;base64,") == 3, stuck
    assert "ada — 01-derivatives: late by 24.0 h" in page


def test_report_export_and_feedback_before_any_grading_say_what_to_do(tmp_path):
    import os
    import subprocess
    import sys

    from tests.course.test_manual_and_late import BIN

    root = written_course(tmp_path / "course")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    for command in ("report", "export", "feedback"):
        done = subprocess.run([sys.executable, "-m", "autograder", command, "--root", str(root),
                               "--work", str(tmp_path / "empty")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"autograder {command}: nothing is graded in" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "empty" / "gradebook.db").exists()  # nothing made on the way
