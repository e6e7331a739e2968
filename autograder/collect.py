"""Collect: turn a folder of submissions into nbgrader's `submitted/<student>/<assignment>/` layout.

Four layouts are accepted:

1. nbgrader's: `SUBMISSIONS/[submitted/]<student>/<assignment>/<notebook>.ipynb`;
2. one zip file per student: `SUBMISSIONS/<student>.zip` (notebooks anywhere inside, placed by
   their `<assignment>/` folder or, failing that, by their name);
3. one repository clone per student (GitHub Classroom): `SUBMISSIONS/<student>/.git` with the
   notebooks under `<assignment>/` or `course/<assignment>/`;
4. nbgrader's exchange (students pressed "Submit" on JupyterHub): `<exchange root>/<course_id>/
   inbound/<student>+<assignment>+<timestamp>[+<random>]/<notebook>.ipynb`, given as the
   `inbound/` folder, the course folder or the exchange root (one course). Folder names are read as
   nbgrader 0.9's `nbgrader collect` reads them, and as there the latest submission of each student
   and assignment wins.

Anything else is refused with `LayoutError`, whose message names these layouts.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

MISSING = "missing notebook"
WRONG_ASSIGNMENT = "wrong assignment"
NOT_A_NOTEBOOK = "not a notebook"
INVALID_JSON = "invalid JSON"

LAYOUTS = (
    "nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb folders",
    "a folder of per-student zip files (<student>.zip)",
    "a folder of per-student repository clones (<student>/.git, notebooks under <assignment>/)",
    "nbgrader's exchange inbound/<student>+<assignment>+<timestamp>[+<random>]/ folders (the "
    "course's inbound/ folder, the course folder or the exchange root)",
)
EXCHANGE_NAME = "<student>+<assignment>+<timestamp>[+<random>]"
EXCHANGE_RANDOM = re.compile(r"^[A-Za-z0-9_-]{12}$")  # nbgrader: urlsafe base64 of 9 random bytes
MAX_ZIP_BYTES = 50 * 1024 * 1024
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$")


class LayoutError(ValueError):
    """The submissions folder is in none of the layouts `grade` accepts."""


@dataclass
class Submission:
    """One student's submission of one assignment, after collection."""

    student: str
    assignment: str
    folder: Path  # work/submitted/<student>/<assignment>
    notebooks: dict[str, Path | None] = field(default_factory=dict)  # notebook id -> file
    problems: dict[str, str] = field(default_factory=dict)  # notebook id -> named error + why
    masters_digest: str = ""  # the masters it is graded against

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.assignment)

    def digest(self) -> str:
        """Hash of what was submitted and the masters (either changing means grading again)."""
        h = hashlib.sha256(self.masters_digest.encode())
        for name in sorted(self.notebooks):
            path = self.notebooks[name]
            h.update(name.encode())
            h.update(path.read_bytes() if path is not None and path.exists() else b"-")
            h.update(self.problems.get(name, "").encode())
        return h.hexdigest()


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
        _student_id(record.student, entry)
        groups.setdefault((record.student, record.assignment), []).append(record)
    latest, older = [], {}
    for key, records in sorted(groups.items()):
        records.sort(key=lambda r: (r.when, r.path.name))
        latest.append(records[-1])
        if len(records) > 1:
            older[key] = len(records) - 1
    return latest, older


def _exchange_inbound(folder: Path) -> Path | None:
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


def detect_layout(folder: Path) -> tuple[str, Path]:
    """Which layout `folder` is in: ("nbgrader" | "zip" | "clones" | "exchange", the folder of
    students, or for "exchange" the course's inbound/ folder)."""
    folder = Path(folder)
    refuse = (f"{folder} is not a submissions folder `autograder grade` can read. It takes "
              + "; or ".join(LAYOUTS) + ".")
    if not folder.is_dir():
        raise LayoutError(f"{refuse} ({folder} is not a folder.)")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    else:
        inbound = _exchange_inbound(folder)
        if inbound is not None:
            if not any(not p.name.startswith(".") for p in inbound.iterdir()):
                raise LayoutError(f"{refuse} ({inbound}, nbgrader's exchange inbound folder, is "
                                  "empty: nobody has submitted yet.)")
            exchange_submissions(inbound)  # refuse a malformed folder name before any set-up
            return "exchange", inbound
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if not entries:
        raise LayoutError(f"{refuse} ({folder} is empty.)")
    if all(p.is_file() and p.suffix == ".zip" for p in entries):
        return "zip", folder
    if all(p.is_dir() for p in entries):
        if any((p / ".git").exists() for p in entries):
            return "clones", folder
        if all(any(c.is_dir() for c in p.iterdir()) for p in entries):
            return "nbgrader", folder
    found = ", ".join(sorted(p.name for p in entries)[:5])
    raise LayoutError(f"{refuse} (Found: {found}.)")


def collect(source: Path, submitted: Path, catalogue: dict[str, list[str]]) -> list[Submission]:
    """Copy every submission into `submitted/<student>/<assignment>/` and say what is missing.

    `catalogue` maps each assignment id to its notebook ids (from the gradebook). Returns one
    `Submission` per student and assignment the student handed anything in for, sorted.
    """
    layout, folder = detect_layout(source)
    if layout == "exchange":
        return _collect_exchange(folder, submitted, catalogue)
    staging = submitted.parent / "collect"
    shutil.rmtree(staging, ignore_errors=True)
    trees: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        student = entry.stem if layout == "zip" else entry.name
        student = _student_id(student, entry)
        if layout == "zip":
            trees[student] = _unzip(entry, staging / student)
        else:
            trees[student] = entry
    submissions = []
    for student, tree in trees.items():
        placed = _place(tree, catalogue)
        for assignment, files in sorted(placed.items()):
            submissions.append(_copy(student, assignment, files, submitted, catalogue))
    shutil.rmtree(staging, ignore_errors=True)
    return sorted(submissions, key=lambda s: s.key)


def _collect_exchange(inbound: Path, submitted: Path,
                      catalogue: dict[str, list[str]]) -> list[Submission]:
    latest, older = exchange_submissions(inbound)
    submissions = []
    for record in latest:
        if record.assignment not in catalogue:
            continue  # not an assignment being graded, as in the other layouts
        skipped = older.get((record.student, record.assignment), 0)
        if skipped:
            print(f"{record.student}/{record.assignment}: submitted {skipped + 1} times through "
                  f"nbgrader's exchange; grading the latest ({record.timestamp}), "
                  f"{skipped} older cop{'y' if skipped == 1 else 'ies'} skipped", file=sys.stderr)
        files = _place(record.path, catalogue, record.assignment)[record.assignment]
        submissions.append(_copy(record.student, record.assignment, files, submitted, catalogue))
    return submissions  # sorted by student and assignment already


def _student_id(name: str, entry: Path) -> str:
    if not STUDENT_ID.match(name):
        raise LayoutError(f"{entry}: '{name}' is not a usable student id (letters, digits, "
                          "'_.@+-'); rename the file or folder and grade again.")
    return name


def _unzip(archive: Path, target: Path) -> Path:
    """Extract a student's zip safely: no absolute paths, no `..`, bounded size."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            total = 0
            for info in zf.infolist():
                name = Path(info.filename)
                if info.is_dir() or name.is_absolute() or ".." in name.parts:
                    continue
                if "__MACOSX" in name.parts:
                    continue
                total += info.file_size
                if total > MAX_ZIP_BYTES:
                    break
                dest = target / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile:
        pass  # nothing extracted: every notebook of the student is reported missing
    return target


def _place(tree: Path, catalogue: dict[str, list[str]],
           assignment: str | None = None) -> dict[str, dict[str, tuple]]:
    """Map assignment -> {file stem: (path, named error or None)} for one student's tree.

    `assignment`: the tree is that assignment's folder (an exchange submission)."""
    owner = {nb: a for a, nbs in catalogue.items() for nb in nbs}
    placed: dict[str, dict[str, tuple]] = {}
    if assignment is not None:
        placed[assignment] = {}  # handed in, maybe no notebook
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree)
        if path.is_dir() and path.name in catalogue and not path.name.startswith("."):
            placed.setdefault(path.name, {})  # handed in something, maybe no notebook
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        folder = next((p for p in reversed(rel.parts[:-1]) if p in catalogue), assignment)
        stem = path.stem
        if folder is None:
            if path.suffix == ".ipynb" and stem in owner:
                placed.setdefault(owner[stem], {})[stem] = (path, None)
            continue
        mine = catalogue[folder]
        if stem in mine:
            error = None if path.suffix == ".ipynb" else (
                f"{NOT_A_NOTEBOOK}: {rel} is a {path.suffix or 'extension-less'} file; "
                f"submit {stem}.ipynb")
            current = placed.setdefault(folder, {}).get(stem)
            if current is None or current[1] is not None:
                placed[folder][stem] = (path, error)
        elif path.suffix == ".ipynb" and stem in owner:
            placed.setdefault(folder, {}).setdefault(stem, (path, (
                f"{WRONG_ASSIGNMENT}: {rel} belongs to {owner[stem]}, not {folder}")))
    return placed


def _copy(student: str, assignment: str, files: dict[str, tuple], submitted: Path,
          catalogue: dict[str, list[str]]) -> Submission:
    dest = submitted / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    sub = Submission(student, assignment, dest)
    wrong = [e for _, e in files.values() if e and e.startswith(WRONG_ASSIGNMENT)]
    for notebook in catalogue[assignment]:
        path, error = files.get(notebook, (None, None))
        if path is None:
            sub.notebooks[notebook] = None
            sub.problems[notebook] = wrong[0] if wrong else (
                f"{MISSING}: {student} handed in no {notebook}.ipynb for {assignment}")
            continue
        target = dest / f"{notebook}.ipynb"
        shutil.copyfile(path, target)
        sub.notebooks[notebook] = target
        if error:
            sub.problems[notebook] = error
    return sub
