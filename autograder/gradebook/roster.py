"""Who left the class and who was renamed, so that the next `grade` respects it.

`autograder student remove` and `rename` change the gradebook at once, but the submissions
stay where students left them (the exchange's inbound folder, a folder of zips), still under
the old id. The roster, a table in nbgrader's gradebook beside the kit's ledger, remembers each
change: a removed student's submissions are skipped with a note; a renamed student's are
graded under the new id (renames chain: ``eve -> evelyn -> eva``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import text

ROSTER = "autograder_roster"


def _ensure(gb: Gradebook) -> None:
    gb.db.execute(text(f"CREATE TABLE IF NOT EXISTS {ROSTER} (student TEXT PRIMARY KEY, "
                       "becomes TEXT)"))


def note_change(gb: Gradebook, student: str, becomes: str | None) -> None:
    """Remember that ``student`` was removed (``becomes`` None) or renamed to ``becomes``; the
    caller commits. A student added back under an id clears that id's own entry."""
    _ensure(gb)
    gb.db.execute(text(f"DELETE FROM {ROSTER} WHERE student = :s"), {"s": student})
    gb.db.execute(text(f"INSERT INTO {ROSTER} (student, becomes) VALUES (:s, :b)"),
                  {"s": student, "b": becomes})
    if becomes is not None:
        gb.db.execute(text(f"DELETE FROM {ROSTER} WHERE student = :b"), {"b": becomes})


def roster(db_url: str) -> dict[str, str | None]:
    """Old id -> the id now (None: removed), renames followed to their end."""
    with Gradebook(db_url) as gb:
        _ensure(gb)
        gb.db.commit()
        rows = dict(gb.db.execute(text(f"SELECT student, becomes FROM {ROSTER}")).fetchall())
    final: dict[str, str | None] = {}
    for student in rows:
        seen, now = {student}, rows[student]
        while now is not None and now in rows and now not in seen:
            seen.add(now)
            now = rows[now]
        final[student] = now
    return final


def apply_roster(submissions: list, changes: dict[str, str | None], work: Path,
                 say=print) -> list:
    """The submissions to grade: a removed student's left out (their collected copy too), a
    renamed student's moved to the new id."""
    kept = []
    for sub in submissions:
        if sub.student not in changes:
            kept.append(sub)
            continue
        new = changes[sub.student]
        if new is None:
            say(f"{sub.student}/{sub.assignment}: not graded, {sub.student} was removed from "
                "the class (autograder student remove)")
            shutil.rmtree(sub.folder, ignore_errors=True)
            _drop_if_empty(sub.folder.parent)
            continue
        target = Path(work) / "submitted" / new / sub.assignment
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        sub.folder.rename(target)
        _drop_if_empty(sub.folder.parent)
        sub.notebooks = {name: (target / path.relative_to(sub.folder) if path else None)
                         for name, path in sub.notebooks.items()}
        say(f"{sub.student}/{sub.assignment}: graded as {new} (renamed with autograder "
            "student rename)")
        sub.student, sub.folder = new, target
        kept.append(sub)
    return kept


def _drop_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty: the student's other assignments are there
