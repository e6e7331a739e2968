"""nbgrader's exchange: `<exchange root>/<course_id>/inbound/<student>+<assignment>+<timestamp>
[+<random>]/<notebook>.ipynb`, given as the `inbound/` folder, the course folder or the exchange
root (one course). Folder names are read as nbgrader 0.9's `nbgrader collect` reads them, and as
there the latest submission of each student and assignment wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.collect.layouts import LayoutError, student_id

EXCHANGE_NAME = "<student>+<assignment>+<timestamp>[+<random>]"
EXCHANGE_RANDOM = re.compile(r"^[A-Za-z0-9_-]{12}$")  # nbgrader: urlsafe base64 of 9 random bytes


@dataclass(frozen=True)
class ExchangeSubmission:
    """One folder of nbgrader's exchange inbound/: one press of "Submit"."""

    student: str
    assignment: str
    timestamp: str  # as nbgrader wrote it, e.g. "2025-03-01 12:00:00.123456 UTC"
    when: datetime  # naive UTC datetime, nbgrader's parse_utc of `timestamp`
    path: Path


def parse_exchange_name(path: Path) -> ExchangeSubmission:
    """Split an inbound folder's name the way nbgrader's exchange builds and reads it.

    `nbgrader submit` names the folder `'{}+{}+{}+{}'.format(student, assignment, timestamp,
    random)` (the random part only with `ExchangeSubmit.add_random_string`, the default), and
    `nbgrader collect` reads it back with `rsplit('+', 3)` and `parse_utc(parts[2])`. Here a name
    without the random part is accepted too, and a student id may hold '+'.
    """
    from nbgrader.utils import parse_utc  # nbgrader's own reading of its timestamps

    name = path.name
    parts = name.rsplit("+", 3)
    candidates = []
    if len(parts) == 4 and EXCHANGE_RANDOM.match(parts[3]):
        candidates.append(parts[:3])  # with the random suffix
    if len(parts) >= 3:
        candidates.append(name.rsplit("+", 2))  # without it
    for student, assignment, timestamp in candidates:
        if not (student and assignment and timestamp):
            continue
        try:
            when = parse_utc(timestamp)
        except Exception:  # dateutil's ParserError, an unknown zone, an impossible date
            continue
        return ExchangeSubmission(student, assignment, timestamp, when, path)
    raise LayoutError(
        f"{path}: '{name}' is not an nbgrader exchange submission folder name; `nbgrader submit` "
        f"names them {EXCHANGE_NAME}, e.g. 'ada+01-derivatives+2025-03-01 12:00:00.123456 "
        "UTC+Xy3_ab-CdEfG'. Rename or remove that folder and grade again.")


def exchange_submissions(inbound: Path) -> tuple[list[ExchangeSubmission], dict]:
    """The latest submission of each student and assignment in `inbound`, as `nbgrader collect`.

    Returns (latest submissions sorted by student and assignment, {(student, assignment):
    number of older submissions skipped}).
    """
    groups: dict[tuple[str, str], list[ExchangeSubmission]] = {}
    for entry in sorted(inbound.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            raise LayoutError(f"{entry}: a file in nbgrader's exchange inbound folder, where only "
                              f"{EXCHANGE_NAME} folders belong; remove it and grade again.")
        record = parse_exchange_name(entry)
        student_id(record.student, entry)
        groups.setdefault((record.student, record.assignment), []).append(record)
    latest, older = [], {}
    for key, records in sorted(groups.items()):
        records.sort(key=lambda r: (r.when, r.path.name))
        latest.append(records[-1])
        if len(records) > 1:
            older[key] = len(records) - 1
    return latest, older


def find_inbound(folder: Path) -> Path | None:
    """nbgrader's exchange inbound folder at or just under `folder` (inbound/, course, root)."""
    if folder.name == "inbound":
        candidates = [folder]
    elif (folder / "inbound").is_dir():
        candidates = [folder / "inbound"]
    else:
        candidates = sorted(p / "inbound" for p in folder.iterdir()
                            if not p.name.startswith(".") and (p / "inbound").is_dir())
    found = [c for c in candidates if _looks_like_inbound(c)]
    if len(found) > 1:  # an exchange root: the course students submitted to, if only one
        found = [c for c in found if any(not p.name.startswith(".") for p in c.iterdir())]
    if len(found) > 1:
        names = ", ".join(c.parent.name for c in found)
        raise LayoutError(f"{folder} is an nbgrader exchange with submissions to several courses "
                          f"({names}); grade one course's folder, e.g. {found[0].parent}.")
    return found[0] if found else None


def _looks_like_inbound(inbound: Path) -> bool:
    """nbgrader's inbound/: beside the course's outbound/, or holding '+'-named submissions."""
    if (inbound.parent / "outbound").is_dir():
        return True
    return any(p.name.count("+") >= 2 for p in inbound.iterdir() if p.is_dir())
