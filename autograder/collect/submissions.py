"""Collect: detect the layout, then copy every submission into nbgrader's
`submitted/<student>/<assignment>/` layout and say what is missing or misplaced.

The layouts are listed in `autograder.collect.layouts`; zip files are opened by
`autograder.collect.archives`, nbgrader's exchange is read by `autograder.collect.exchange`.

Nothing is followed through a link, from any source (folders, zips, clones, the exchange, a
`ci PATH` checkout, Gradescope's upload): trees are walked with `lstat`, a link (to a file or a
folder) is never entered or copied, and a link where a notebook (or a student's or an
assignment's folder) belongs is that student's named error naming the path. A zip that cannot be
extracted safely is that student's named error for every assignment graded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.collect.archives import ArchiveProblem, unzip
from autograder.collect.exchange import exchange_submissions, find_inbound
from autograder.collect.layouts import LAYOUTS, LayoutError, student_id
from autograder.grading.outcome import (
    BAD_ARCHIVE,
    LINKED,
    MISSING,
    NOT_A_NOTEBOOK,
    WRONG_ASSIGNMENT,
    Outcome,
)


@dataclass
class Submission:
    """One student's submission of one assignment, after collection."""

    student: str
    assignment: str
    folder: Path  # work/submitted/<student>/<assignment>
    notebooks: dict[str, Path | None] = field(default_factory=dict)  # notebook id -> file
    problems: dict[str, Outcome] = field(default_factory=dict)  # notebook id -> named error
    masters_digest: str = ""  # the masters it is graded against
    submitted_at: str | None = None  # nbgrader's timestamp text (UTC), when the layout has one
    time_source: str = ""  # where `submitted_at` came from (or why there is none)

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
            h.update(str(self.problems.get(name, "")).encode())
        if self.submitted_at:
            h.update(self.submitted_at.encode())
        return h.hexdigest()


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
        inbound = find_inbound(folder)
        if inbound is not None:
            if not any(not p.name.startswith(".") for p in inbound.iterdir()):
                raise LayoutError(f"{refuse} ({inbound}, nbgrader's exchange inbound folder, is "
                                  "empty: nobody has submitted yet.)")
            latest, _, skipped = exchange_submissions(inbound)
            if not latest:  # nothing usable: say why before any set-up
                raise LayoutError(f"{refuse} ({inbound}, nbgrader's exchange inbound folder, "
                                  "holds no submission that can be graded: "
                                  + "; ".join(skipped[:5]) + ")")
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
    refused: dict[str, Outcome] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        student = entry.stem if layout == "zip" else entry.name
        student = student_id(student, entry)
        if entry.is_symlink():
            refused[student] = Outcome(LINKED, f"{entry} is a symbolic link; links are not "
                                       "followed: hand in the files themselves")
        elif layout == "zip":
            try:
                trees[student] = unzip(entry, staging / student)
            except ArchiveProblem as exc:
                refused[student] = Outcome(BAD_ARCHIVE, f"{entry.name}: {exc}; nothing in it "
                                           "was graded: zip the notebooks again and resubmit")
        else:
            trees[student] = entry
    submissions = []
    for student, tree in trees.items():
        placed = place(tree, catalogue)
        entry = folder / (f"{student}.zip" if layout == "zip" else student)
        for assignment, files in sorted(placed.items()):
            when, source = submission_time(layout, entry, tree / assignment)
            submissions.append(_copy(student, assignment, files, submitted, catalogue, when,
                                     time_source=source))
    for student, outcome in refused.items():
        for assignment in catalogue:
            submissions.append(_refused(student, assignment, outcome, submitted, catalogue))
    shutil.rmtree(staging, ignore_errors=True)
    return sorted(submissions, key=lambda s: s.key)


def _refused(student: str, assignment: str, outcome: Outcome, submitted: Path,
             catalogue: dict[str, list[str]]) -> Submission:
    """A submission nothing of which can be used: every notebook gets `outcome`."""
    dest = submitted / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    sub = Submission(student, assignment, dest)
    for notebook in catalogue[assignment]:
        sub.notebooks[notebook] = None
        sub.problems[notebook] = outcome
    return sub


def walk(tree: Path) -> list[tuple[Path, bool, bool]]:
    """Every entry under `tree` as (path, is a folder, is a link), without following links:
    a linked folder is listed, never entered."""
    found = []
    stack = [tree]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            link = entry.is_symlink()
            folder_here = not link and entry.is_dir(follow_symlinks=False)
            found.append((path, folder_here, link))
            if folder_here:
                stack.append(path)
    return sorted(found)


def _collect_exchange(inbound: Path, submitted: Path,
                      catalogue: dict[str, list[str]]) -> list[Submission]:
    latest, older, skipped = exchange_submissions(inbound)
    for line in skipped:  # reported, and the batch goes on
        print(f"warning: nbgrader's exchange: {line}", file=sys.stderr)
    submissions = []
    for record in latest:
        if record.assignment not in catalogue:
            continue  # not an assignment being graded, as in the other layouts
        skipped = older.get((record.student, record.assignment), 0)
        if skipped:
            print(f"{record.student}/{record.assignment}: submitted {skipped + 1} times through "
                  f"nbgrader's exchange; grading the latest ({record.timestamp}), "
                  f"{skipped} older cop{'y' if skipped == 1 else 'ies'} skipped", file=sys.stderr)
        if record.path.is_symlink():
            submissions.append(_refused(record.student, record.assignment, Outcome(
                LINKED, f"{record.path} is a symbolic link; links are not followed"),
                submitted, catalogue))
            continue
        files = place(record.path, catalogue, record.assignment)[record.assignment]
        submissions.append(_copy(record.student, record.assignment, files, submitted, catalogue,
                                 record.submitted_at, carried=record.path,
                                 time_source=record.time_source))
    return submissions  # sorted by student and assignment already


def place(tree: Path, catalogue: dict[str, list[str]],
           assignment: str | None = None) -> dict[str, dict[str, tuple]]:
    """Map assignment -> {file stem: (path, named error or None)} for one student's tree.

    `assignment`: the tree is that assignment's folder (an exchange submission)."""
    owner = {nb: a for a, nbs in catalogue.items() for nb in nbs}
    placed: dict[str, dict[str, tuple]] = {}
    if assignment is not None:
        placed[assignment] = {}  # handed in, maybe no notebook
    if tree.is_symlink():
        return placed
    for path, is_folder, is_link in walk(tree):
        rel = path.relative_to(tree)
        if any(p.startswith(".") for p in rel.parts):
            continue
        if is_folder and path.name in catalogue:
            placed.setdefault(path.name, {})  # handed in something, maybe no notebook
        if is_link:
            _place_link(placed, path, rel, catalogue, owner, assignment)
            continue
        if is_folder or not path.is_file():
            continue
        folder = next((p for p in reversed(rel.parts[:-1]) if p in catalogue), assignment)
        stem = path.stem
        if folder is None:
            if path.suffix == ".ipynb" and stem in owner:
                placed.setdefault(owner[stem], {})[stem] = (path, None)
            continue
        mine = catalogue[folder]
        if stem in mine:
            error = None if path.suffix == ".ipynb" else Outcome(
                NOT_A_NOTEBOOK, f"{rel} is a {path.suffix or 'extension-less'} file; "
                f"submit {stem}.ipynb")
            current = placed.setdefault(folder, {}).get(stem)
            if current is None or current[1] is not None:
                placed[folder][stem] = (path, error)
        elif path.suffix == ".ipynb" and stem in owner:
            placed.setdefault(folder, {}).setdefault(stem, (path, Outcome(
                WRONG_ASSIGNMENT, f"{rel} belongs to {owner[stem]}, not {folder}")))
    return placed


# --- submission times ------------------------------------------------------------------------
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format
CARRIED = ("submission_secret.txt",)  # nbgrader's exchange files release_feedback reads


def format_timestamp(when: datetime) -> str:
    """nbgrader's timestamp text for an aware or naive-UTC datetime."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


ZIP_TIME = ("the zip file's modification time in the grader's folder (its arrival; never the "
            "dates of the entries inside, which the student sets)")
STAMP_TIME = "timestamp.txt in the grader's nbgrader folder (as nbgrader collect wrote it)"
NO_CLONE_TIME = ("none: a clone's commit dates are set by the student, so it is not checked "
                 "for lateness (grade the Git host's push times by hand)")
TIME_SOURCE_FILE = "timestamp-source.txt"  # beside timestamp.txt: where that time came from


def submission_time(layout: str, entry: Path, assignment_tree: Path) -> tuple[str | None, str]:
    """When a submission was handed in, from what the student cannot write, and where that
    time came from: (nbgrader's timestamp text or None, source).

    nbgrader's folders: the `timestamp.txt` nbgrader collect put beside the notebooks; a zip:
    the zip file's modification time as it arrived in the grader's folder (the LMS's download
    sets it), never its entries' dates; a clone: none (commit dates are the author's claim)."""
    try:
        if layout == "nbgrader":
            stamp = assignment_tree / "timestamp.txt"
            text = stamp.read_text().strip() if stamp.is_file() else ""
            return (text, STAMP_TIME) if text else (None, "")
        if layout == "zip":
            return (format_timestamp(datetime.fromtimestamp(entry.lstat().st_mtime,
                                                            timezone.utc)), ZIP_TIME)
        if layout == "clones":
            return None, NO_CLONE_TIME
    except (OSError, ValueError):
        return None, "none: it could not be read"
    return None, ""


def _place_link(placed: dict, path: Path, rel: Path, catalogue: dict[str, list[str]],
                owner: dict[str, str], assignment: str | None) -> None:
    """A link where a notebook or an assignment folder belongs: a named error for each
    notebook it would have given (never replacing a real file of that notebook)."""
    error = Outcome(LINKED, f"{rel} is a symbolic link (to {_target(path)}); links are not "
                    "followed: hand in the notebook file itself")
    if path.name in catalogue:  # a linked assignment folder
        for stem in catalogue[path.name]:
            placed.setdefault(path.name, {}).setdefault(stem, (path, error))
        return
    stem = path.name[:-len(".ipynb")] if path.name.endswith(".ipynb") else None
    if stem is None or stem not in owner:
        return
    folder = next((p for p in reversed(rel.parts[:-1]) if p in catalogue), assignment)
    folder = folder if folder is not None and stem in catalogue[folder] else owner[stem]
    placed.setdefault(folder, {}).setdefault(stem, (path, error))


def _target(path: Path) -> str:
    try:
        return os.readlink(path)[:200]
    except OSError:
        return "?"


def _copy_file(source: Path, target: Path) -> None:
    """Copy a regular file, never through a link (the last component opened O_NOFOLLOW;
    the folders above it were walked without following links)."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as src:
        if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
            raise OSError(f"{source} is not a regular file")
        out_fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(out_fd, "wb") as out:
            shutil.copyfileobj(src, out)


def _copy(student: str, assignment: str, files: dict[str, tuple], submitted: Path,
          catalogue: dict[str, list[str]], submitted_at: str | None = None,
          carried: Path | None = None, time_source: str = "") -> Submission:
    dest = submitted / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    sub = Submission(student, assignment, dest, submitted_at=submitted_at,
                     time_source=time_source)
    if submitted_at:  # nbgrader's record of the time (autograde's, generate/release_feedback's)
        (dest / "timestamp.txt").write_text(submitted_at)
    if time_source:
        (dest / TIME_SOURCE_FILE).write_text(time_source)
    for name in CARRIED:  # never through a link (a planted one could point at a master)
        if carried is not None:
            try:
                _copy_file(carried / name, dest / name)
            except OSError:
                pass
    wrong = [e for _, e in files.values() if e and e.kind is WRONG_ASSIGNMENT]
    for notebook in catalogue[assignment]:
        path, error = files.get(notebook, (None, None))
        if path is None:
            sub.notebooks[notebook] = None
            sub.problems[notebook] = wrong[0] if wrong else Outcome(
                MISSING, f"{student} handed in no {notebook}.ipynb for {assignment}")
            continue
        if error is not None and error.kind is LINKED:
            sub.notebooks[notebook] = None  # nothing copied: the link's target is not theirs
            sub.problems[notebook] = error
            continue
        target = dest / f"{notebook}.ipynb"
        try:
            _copy_file(path, target)
        except OSError as exc:
            sub.notebooks[notebook] = None
            sub.problems[notebook] = Outcome(NOT_A_NOTEBOOK, f"{path.name} could not be read "
                                             f"({type(exc).__name__}: {exc})"[:300])
            continue
        sub.notebooks[notebook] = target
        if error:
            sub.problems[notebook] = error
    return sub
