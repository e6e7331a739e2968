"""Canvas's gradebook CSV (Grades > Import): the columns Canvas reads and writes.

`Student, ID, SIS User ID, SIS Login ID, Section`, then one column per assignment, with a
`Points Possible` row first. Canvas matches a row to a student by ID, SIS User ID or SIS
Login ID; the kit knows the nbgrader student id, written as SIS Login ID (and as ID when the
gradebook's `lms_user_id` holds Canvas's own id). A submission not handed in is left empty,
which Canvas leaves ungraded; scores are the gradebook's (manual grades counted, late
penalty taken off). An assignment column Canvas does not know becomes a new assignment.
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.gradebook.view import gradebook_entries

FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def write_canvas_csv(path: Path, db_url: str, students: list[str],
                     assignments: list[str]) -> Path:
    entries = gradebook_entries(db_url)
    maxima = {}
    for (_, assignment), entry in entries.items():
        maxima.setdefault(assignment, entry.max_score)
    with Gradebook(db_url) as gb:
        people = {s.id: s for s in gb.students}
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*FIXED, *assignments])
        writer.writerow(["Points Possible", "", "", "", "",
                         *[f"{maxima.get(a, 0):g}" for a in assignments]])
        for student in students:
            person = people.get(student)
            name = (", ".join(p for p in (person.last_name, person.first_name) if p)
                    if person is not None else "") or student
            lms = (person.lms_user_id if person is not None else None) or ""
            cells = []
            for assignment in assignments:
                entry = entries.get((student, assignment))
                cells.append("" if entry is None else f"{entry.final:g}")
            writer.writerow([name, lms, "", student, "", *cells])
    return path
