"""Collect: detect the layout, then copy every submission into nbgrader's
`submitted/<student>/<assignment>/` layout and say what is missing or misplaced.

The layouts are listed in `autograder.collect.layouts`; zip files are opened by
`autograder.collect.archives`, nbgrader's exchange is read by `autograder.collect.exchange`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.collect.archives import unzip
from autograder.collect.exchange import exchange_submissions, find_inbound
from autograder.collect.layouts import LAYOUTS, LayoutError, student_id
from autograder.grading.outcome import MISSING, NOT_A_NOTEBOOK, WRONG_ASSIGNMENT, Outcome


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
        student = student_id(student, entry)
        if layout == "zip":
            trees[student] = unzip(entry, staging / student)
        else:
            trees[student] = entry
    submissions = []
    for student, tree in trees.items():
        placed = place(tree, catalogue)
        entry = folder / (f"{student}.zip" if layout == "zip" else student)
        for assignment, files in sorted(placed.items()):
            when = submission_time(layout, entry, tree / assignment)
            submissions.append(_copy(student, assignment, files, submitted, catalogue, when))
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
        files = place(record.path, catalogue, record.assignment)[record.assignment]
        submissions.append(_copy(record.student, record.assignment, files, submitted, catalogue,
                                 record.timestamp, carried=record.path))
    return submissions  # sorted by student and assignment already


def place(tree: Path, catalogue: dict[str, list[str]],
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


def submission_time(layout: str, entry: Path, assignment_tree: Path) -> str | None:
    """When a submission was handed in, as the layout records it, or None.

    nbgrader's folders: a `timestamp.txt` beside the notebooks; a zip: the newest notebook
    entry's time (zip times carry no zone: read as UTC), else the zip file's mtime; a clone:
    its last commit's committer time."""
    try:
        if layout == "nbgrader":
            stamp = assignment_tree / "timestamp.txt"
            return stamp.read_text().strip() or None if stamp.is_file() else None
        if layout == "zip":
            with zipfile.ZipFile(entry) as zf:
                times = [datetime(*info.date_time) for info in zf.infolist()
                         if info.filename.endswith(".ipynb")]
            if times:
                return format_timestamp(max(times))
            return format_timestamp(datetime.fromtimestamp(entry.stat().st_mtime, timezone.utc))
        if layout == "clones":
            env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(entry.parent.resolve()))
            done = subprocess.run(["git", "-C", str(entry), "log", "-1", "--format=%ct"],
                                  capture_output=True, text=True, timeout=30, env=env)
            if done.returncode == 0 and done.stdout.strip():
                return format_timestamp(datetime.fromtimestamp(int(done.stdout.strip()),
                                                               timezone.utc))
    except (OSError, ValueError, zipfile.BadZipFile, subprocess.SubprocessError):
        return None
    return None


def _copy(student: str, assignment: str, files: dict[str, tuple], submitted: Path,
          catalogue: dict[str, list[str]], submitted_at: str | None = None,
          carried: Path | None = None) -> Submission:
    dest = submitted / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    sub = Submission(student, assignment, dest, submitted_at=submitted_at)
    if submitted_at:  # nbgrader's record of the time (autograde's, generate/release_feedback's)
        (dest / "timestamp.txt").write_text(submitted_at)
    for name in CARRIED:
        if carried is not None and (carried / name).is_file():
            shutil.copyfile(carried / name, dest / name)
    wrong = [e for _, e in files.values() if e and e.kind is WRONG_ASSIGNMENT]
    for notebook in catalogue[assignment]:
        path, error = files.get(notebook, (None, None))
        if path is None:
            sub.notebooks[notebook] = None
            sub.problems[notebook] = wrong[0] if wrong else Outcome(
                MISSING, f"{student} handed in no {notebook}.ipynb for {assignment}")
            continue
        target = dest / f"{notebook}.ipynb"
        shutil.copyfile(path, target)
        sub.notebooks[notebook] = target
        if error:
            sub.problems[notebook] = error
    return sub
