"""nbgrader's exchange: `<exchange root>/<course_id>/inbound/<student>+<assignment>+<timestamp>
[+<random>]/<notebook>.ipynb`, given as the `inbound/` folder, the course folder or the exchange
root (one course). Folder names are read as nbgrader 0.9's `nbgrader collect` reads them, and as
there the latest submission of each student and assignment wins.

Read more strictly than nbgrader reads it, because students write the inbound folder:

- an entry owned by a uid other than the grader's (or root's) must be owned by the student it
  names (the user name of its owner, as `nbgrader collect` checks, but refused, not warned
  about), and so must everything in it: another user's `victim+<assignment>+<later time>`
  folder never replaces the victim's submission;
- a stray file, a malformed name, a link owned by someone else are reported and skipped; the
  batch goes on;
- the time is not the folder name's alone (the student's `nbgrader submit` wrote it): for an
  entry a student owns, it is the latest change time (ctime, which no user can set back) of
  the folder and everything in it, if that is later than the name says. An entry the grader's
  uid owns (a copy the grader made) keeps its name's time. `time_source` says which.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from autograder.collect.layouts import STUDENT_ID, LayoutError

try:
    import pwd
except ImportError:  # pragma: no cover (not POSIX)
    pwd = None

EXCHANGE_NAME = "<student>+<assignment>+<timestamp>[+<random>]"
EXCHANGE_RANDOM = re.compile(r"^[A-Za-z0-9_-]{12}$")  # nbgrader: urlsafe base64 of 9 random bytes
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format
NAME_TIME = "the exchange folder's name (an entry the grader's uid placed)"
CHANGE_TIME = ("the exchange entry's last change time on the grader's disk (ctime, which the "
               "student cannot set back)")


@dataclass(frozen=True)
class ExchangeSubmission:
    """One folder of nbgrader's exchange inbound/: one press of "Submit"."""

    student: str
    assignment: str
    timestamp: str  # as nbgrader wrote it in the name, e.g. "2025-03-01 12:00:00.123456 UTC"
    when: datetime  # naive UTC: nbgrader's parse_utc of `timestamp`, then the time trusted
    path: Path
    submitted_at: str = ""  # the time trusted (nbgrader's timestamp text, UTC)
    time_source: str = ""  # where `submitted_at` comes from


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


def _user(uid: int) -> str | None:
    if pwd is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _grader_owned(uid: int) -> bool:
    return uid in (0, os.geteuid())


def _tree(path: Path) -> list[os.stat_result]:
    """lstat of `path` and of everything below it (links listed, never followed)."""
    found = [os.lstat(path)]
    if stat.S_ISDIR(found[0].st_mode):
        for top, folders, files in os.walk(path, followlinks=False):
            for name in folders + files:
                found.append(os.lstat(os.path.join(top, name)))
    return found


def check_entry(record: ExchangeSubmission) -> ExchangeSubmission:
    """The entry with its trusted time, or `LayoutError` naming why it is refused: owned by a
    user who is not the student it names, or holding another user's files."""
    try:
        infos = _tree(record.path)
    except OSError as exc:
        raise LayoutError(f"{record.path}: cannot be read ({exc})") from exc
    owner = infos[0].st_uid
    if _grader_owned(owner):
        strangers = {i.st_uid for i in infos} - {0, os.geteuid()}
        if strangers:
            raise LayoutError(
                f"{record.path}: the grader's folder holds files of uid "
                f"{', '.join(map(str, sorted(strangers)))}; refused (remove them)")
        return _with_time(record, record.when, NAME_TIME)
    name = _user(owner)
    if name != record.student:
        who = f"user {name!r}" if name else f"uid {owner}, which has no user name here"
        raise LayoutError(
            f"{record.path}: named for {record.student} but owned by {who}; refused (only "
            f"{record.student} can hand in as {record.student}; nbgrader's collect checks the "
            "owner too)")
    strangers = {i.st_uid for i in infos} - {owner, 0, os.geteuid()}
    if strangers:
        raise LayoutError(
            f"{record.path}: holds files of uid {', '.join(map(str, sorted(strangers)))}, not "
            f"only {record.student}'s; refused")
    changed = datetime.fromtimestamp(max(i.st_ctime for i in infos), timezone.utc)
    named = record.when.replace(tzinfo=timezone.utc)
    if changed > named:
        return _with_time(record, changed.replace(tzinfo=None), CHANGE_TIME)
    return _with_time(record, record.when, CHANGE_TIME + "; its name's time is later")


def _with_time(record: ExchangeSubmission, when: datetime, source: str) -> ExchangeSubmission:
    from dataclasses import replace

    text = when.replace(tzinfo=timezone.utc).strftime(TIMESTAMP_FORMAT)
    return replace(record, when=when, submitted_at=text, time_source=source)


def exchange_submissions(inbound: Path) -> tuple[list[ExchangeSubmission], dict, list[str]]:
    """The latest submission of each student and assignment in `inbound`, as `nbgrader collect`,
    from the entries `check_entry` accepts.

    Returns (latest submissions sorted by student and assignment, {(student, assignment):
    number of older submissions skipped}, one line per entry skipped saying why).
    """
    groups: dict[tuple[str, str], list[ExchangeSubmission]] = {}
    skipped: list[str] = []
    for entry in sorted(inbound.iterdir()):
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_symlink():
                info = os.lstat(entry)
                if not (_grader_owned(info.st_uid) or _user(info.st_uid) ==
                        parse_exchange_name(entry).student):
                    raise LayoutError(f"{entry}: a symbolic link owned by uid {info.st_uid}, "
                                      "not by the student it names; refused")
                record = parse_exchange_name(entry)  # the student's own link: a named error
            elif not entry.is_dir():
                raise LayoutError(f"{entry}: a file in nbgrader's exchange inbound folder, where "
                                  f"only {EXCHANGE_NAME} folders belong")
            else:
                record = check_entry(parse_exchange_name(entry))
            if not STUDENT_ID.match(record.student):
                raise LayoutError(f"{entry}: '{record.student}' is not a usable student id "
                                  "(letters, digits, '_.@+-')")
        except LayoutError as exc:
            skipped.append(f"skipped {exc}")
            continue
        groups.setdefault((record.student, record.assignment), []).append(record)
    latest, older = [], {}
    for key, records in sorted(groups.items()):
        records.sort(key=lambda r: (r.when, r.path.name))
        latest.append(records[-1])
        if len(records) > 1:
            older[key] = len(records) - 1
    return latest, older, skipped


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
