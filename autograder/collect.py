"""Collect: turn a folder of submissions into nbgrader's `submitted/<student>/<assignment>/` layout.

Three layouts are accepted:

1. nbgrader's: `SUBMISSIONS/[submitted/]<student>/<assignment>/<notebook>.ipynb`;
2. one zip file per student: `SUBMISSIONS/<student>.zip` (notebooks anywhere inside, placed by
   their `<assignment>/` folder or, failing that, by their name);
3. one repository clone per student (GitHub Classroom): `SUBMISSIONS/<student>/.git` with the
   notebooks under `<assignment>/` or `course/<assignment>/`.

Anything else is refused with `LayoutError`, whose message names these layouts.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MISSING = "missing notebook"
WRONG_ASSIGNMENT = "wrong assignment"
NOT_A_NOTEBOOK = "not a notebook"
INVALID_JSON = "invalid JSON"

LAYOUTS = (
    "nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb folders",
    "a folder of per-student zip files (<student>.zip)",
    "a folder of per-student repository clones (<student>/.git, notebooks under <assignment>/)",
)
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


def detect_layout(folder: Path) -> tuple[str, Path]:
    """Which layout `folder` is in: ("nbgrader" | "zip" | "clones", the folder of students)."""
    folder = Path(folder)
    refuse = (f"{folder} is not a submissions folder `autograder grade` can read. It takes "
              + "; or ".join(LAYOUTS) + ".")
    if not folder.is_dir():
        raise LayoutError(f"{refuse} ({folder} is not a folder.)")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
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


def _place(tree: Path, catalogue: dict[str, list[str]]) -> dict[str, dict[str, tuple]]:
    """Map assignment -> {file stem: (path, named error or None)} for one student's tree."""
    owner = {nb: a for a, nbs in catalogue.items() for nb in nbs}
    placed: dict[str, dict[str, tuple]] = {}
    for path in sorted(tree.rglob("*")):
        rel = path.relative_to(tree)
        if path.is_dir() and path.name in catalogue and not path.name.startswith("."):
            placed.setdefault(path.name, {})  # handed in something, maybe no notebook
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        folder = next((p for p in reversed(rel.parts[:-1]) if p in catalogue), None)
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
