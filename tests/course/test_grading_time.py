"""The grading times an instructor sees: seconds per notebook, its split, a class estimate."""

from __future__ import annotations

from autograder.exports.table import grade_table
from autograder.exports.timing import class_minutes, estimate_line, notebook_times
from autograder.gradebook.record import NotebookRecord, SubmissionRecord
from autograder.grading.outcome import MISSING, Outcome


def record(student, seconds, assignment="01-derivatives", notebook="derivatives", ran=True):
    nb = NotebookRecord(score=1.0, max_score=2.0,
                        outcome=Outcome() if ran else Outcome(MISSING, "no notebook"),
                        seconds=seconds,
                        timings={"kernel start": 0.5, "cells + kernel stop": seconds - 1.0,
                                 "verify + score": 0.5} if ran else {},
                        isolation="bwrap" if ran else "")
    return SubmissionRecord(student, assignment, 1.0, 2.0, {notebook: nb})


CLASS = [record("ada", 4.0), record("bob", 6.0), record("cy", 30.0),
         record("dan", 0.0, ran=False),  # not handed in: no kernel, no time
         record("ada", 10.0, "02-chain-rule", "chain_rule"),
         record("bob", 12.0, "02-chain-rule", "chain_rule")]


def test_per_notebook_seconds_are_the_medians_of_the_notebooks_that_ran():
    times = {t.name: t for t in notebook_times(CLASS)}
    assert set(times) == {"01-derivatives/derivatives", "02-chain-rule/chain_rule"}
    first = times["01-derivatives/derivatives"]
    assert first.seconds == [4.0, 6.0, 30.0] and first.median == 6.0 and first.longest == 30.0
    assert first.steps == {"kernel start": 0.5, "cells + kernel stop": 5.0,
                           "verify + score": 0.5}


def test_the_class_estimate_is_every_student_at_the_median_over_the_workers():
    minutes, students, notebooks = class_minutes(CLASS, workers=2)
    assert (students, notebooks) == (4, 2)
    assert abs(minutes - (6.0 + 11.0) * 4 / 2 / 60) < 1e-9
    line = estimate_line(CLASS, workers=2)
    assert line.startswith("Grading time: about 0.6 min for this class on this machine")
    assert "4 student(s) x 2 notebook(s)" in line and "2 worker(s)" in line
    assert estimate_line([record("dan", 0.0, ran=False)], workers=2) == ""


def test_the_grade_table_shows_each_submissions_seconds_and_the_estimate():
    table = grade_table(CLASS, workers=2)
    ada = next(line for line in table.splitlines() if line.startswith("ada "))
    assert ada.split()[:6] == ["ada", "01-derivatives", "1", "/", "2", "4.0"], ada
    assert "Grading time: about 0.6 min for this class on this machine" in table
    assert ("01-derivatives/derivatives: median 6.0 s, longest 30.0 s over 3 submission(s) "
            "(kernel start 0.5, cells + kernel stop 5.0, verify + score 0.5)") in table
