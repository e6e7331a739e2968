"""grades.csv: one row per student, one column per assignment, the total, and what is open.

Scores come from nbgrader's gradebook (autograded + manual grades entered in formgrader, less
the late penalty). The first row after the header, `max points`, holds each assignment's
maximum. A cell is a number, or `not submitted` (never a silent 0); the `pending` column names
the written answers nobody has graded yet (their points are not in the number), the `late`
column the late submissions and their penalties.
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.gradebook.view import gradebook_entries

MAX_ROW = "max points"
NOT_SUBMITTED = "not submitted"


def write_grades_csv(path: Path, db_url: str, students: list[str],
                     assignments: list[str]) -> Path:
    """Write `path`."""
    entries = gradebook_entries(db_url)
    maxima = {}
    for (_, assignment), entry in entries.items():
        maxima.setdefault(assignment, entry.max_score)
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", *assignments, "total", "pending", "late"])
        writer.writerow([MAX_ROW, *[f"{maxima.get(a, 0):g}" for a in assignments],
                         f"{sum(maxima.get(a, 0) for a in assignments):g}", "", ""])
        for student in students:
            cells, total, pending, late = [], 0.0, [], []
            for assignment in assignments:
                entry = entries.get((student, assignment))
                if entry is None:
                    cells.append(NOT_SUBMITTED)
                    continue
                cells.append(f"{entry.final:g}")
                total += entry.final
                if entry.pending:
                    pending.append(f"{assignment}: {sum(c.max_score for c in entry.pending):g}"
                                   " points by hand")
                if entry.late_text():
                    late.append(f"{assignment}: {entry.late_text()}")
            writer.writerow([student, *cells, f"{total:g}", "; ".join(pending),
                             "; ".join(late)])
    return path
