"""SIGKILL the grader mid-batch, rerun: every submission graded exactly once, nothing lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.grading.fixture_course import ASSIGNMENT, FULL_MARKS, fill, make_course, write_submission

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-resume")]

HALF = "def square(x):\n    return 2 * x\n"  # fails both square tests: 1 of 4 (cube)
STUDENTS = [f"s{i:02d}" for i in range(8)]


def _ledger(db) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        try:
            return con.execute("SELECT student, assignment, digest FROM autograder_ledger "
                               "ORDER BY student").fetchall()
        except sqlite3.OperationalError:
            return []


def _grade(root, subs, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(subs), "--root", str(root),
         "--workers", "2", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, **kw)


def test_sigkill_mid_batch_then_rerun_grades_each_submission_exactly_once(tmp_path):
    root = make_course(tmp_path / "course")
    subs = root / "subs"
    expected = {}
    for i, student in enumerate(sorted(STUDENTS)):
        perfect = i % 2 == 0
        write_submission(subs, student, fill(root) if perfect else fill(root, square=HALF))
        expected[student] = FULL_MARKS if perfect else 1.0
    db = root / "work" / "gradebook.db"

    first = _grade(root, subs, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_ledger(db)) < 2 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    recorded_before = len(_ledger(db))
    assert 2 <= recorded_before < len(STUDENTS), "the kill must land mid-batch"

    second = _grade(root, subs)
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    assert f"{recorded_before} submission(s) already graded and unchanged: skipped" in out

    rows = _ledger(db)
    assert [r[0] for r in rows] == sorted(STUDENTS)  # each exactly once
    with sqlite3.connect(db) as con:
        per_student = dict(con.execute(
            "SELECT student.id, COUNT(*) FROM submitted_assignment JOIN student "
            "ON submitted_assignment.student_id = student.id GROUP BY student.id").fetchall())
        scores = dict(con.execute(
            "SELECT student.id, SUM(grade.auto_score) FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = "
            "submitted_assignment.id JOIN student ON submitted_assignment.student_id = "
            "student.id GROUP BY student.id").fetchall())
        unscored = con.execute("SELECT COUNT(*) FROM grade WHERE auto_score IS NULL").fetchone()
    assert per_student == {s: 1 for s in STUDENTS}
    assert scores == expected
    assert unscored == (0,)

    third = _grade(root, subs)
    out, _ = third.communicate(timeout=120)
    assert f"{len(STUDENTS)} submission(s) already graded and unchanged: skipped" in out
    assert _ledger(db) == rows
    assert ASSIGNMENT in out
