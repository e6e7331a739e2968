"""grades.csv: one row per student, one column per assignment, and the total.

Scores come from nbgrader's gradebook, so manual grades entered in formgrader count.
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry


def write_grades_csv(path: Path, db_url: str, students: list[str],
                     assignments: list[str]) -> Path:
    """Write `path`; a submission the gradebook does not have scores 0."""
    with Gradebook(db_url) as gb, open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", *assignments, "total"])
        for student in students:
            scores = []
            for assignment in assignments:
                try:
                    scores.append(float(gb.find_submission(assignment, student).score))
                except MissingEntry:
                    scores.append(0.0)
            writer.writerow([student, *[f"{s:g}" for s in scores], f"{sum(scores):g}"])
    return path
