"""Class management: remove or rename a student everywhere the kit keeps them.

Everywhere is nbgrader's gradebook (the student, their submissions, grades and comments),
the kit's ledger, and the work folder's copies (`submitted/`, `autograded/`, `feedback/`);
the roster (`autograder.gradebook.roster`) remembers the change for the next `grade`.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

from autograder.collect.layouts import STUDENT_ID
from autograder.gradebook.record import LEDGER, ensure_ledger
from autograder.gradebook.roster import note_change

FOLDERS = ("submitted", "autograded", "feedback")


class StudentError(ValueError):
    """No such student, or the new id is taken or unusable."""


def remove_student(db_url: str, work: Path, student: str) -> None:
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore", SAWarning)
        try:
            gb.find_student(student)
        except MissingEntry as exc:
            raise StudentError(f"no student {student!r} in the gradebook") from exc
        gb.remove_student(student)  # nbgrader removes their submissions with them
        ensure_ledger(gb)
        gb.db.execute(text(f"DELETE FROM {LEDGER} WHERE student = :s"), {"s": student})
        note_change(gb, student, None)  # the next `grade` skips what they left in the exchange
        gb.db.commit()
    for name in FOLDERS:
        shutil.rmtree(Path(work) / name / student, ignore_errors=True)


def rename_student(db_url: str, work: Path, old: str, new: str) -> None:
    if not STUDENT_ID.match(new):
        raise StudentError(f"{new!r} is not a usable student id (letters, digits, '_.@+-')")
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore", SAWarning)
        try:
            before = gb.find_student(old)
        except MissingEntry as exc:
            raise StudentError(f"no student {old!r} in the gradebook") from exc
        try:
            gb.find_student(new)
            raise StudentError(f"{new!r} is already a student in the gradebook")
        except MissingEntry:
            pass
        gb.add_student(new, first_name=before.first_name, last_name=before.last_name,
                       email=before.email, lms_user_id=before.lms_user_id)
        gb.db.execute(text("UPDATE submitted_assignment SET student_id = :n "
                           "WHERE student_id = :o"), {"n": new, "o": old})
        gb.db.execute(text("DELETE FROM student WHERE id = :o"), {"o": old})
        ensure_ledger(gb)
        gb.db.execute(text(f"UPDATE {LEDGER} SET student = :n WHERE student = :o"),
                      {"n": new, "o": old})
        note_change(gb, old, new)  # the next `grade` grades what `old` hands in as `new`
        gb.db.commit()
    for name in FOLDERS:
        source, target = Path(work) / name / old, Path(work) / name / new
        if source.exists():
            source.rename(target)
