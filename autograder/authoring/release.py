"""Regenerate the student release (`course/NN-*`) from the masters (`solutions/NN-*`), safely.

Each assignment is built by nbgrader's generate_assignment into a staging folder under the
work folder; only a build that succeeded (and, from the command line, passed `autograder
check`) replaces `course/<id>`, by renaming folders. A failed build, a refused check or a
killed run leaves the previous release exactly as it was, so the browser site and JupyterHub
keep serving it.

When the assignment already has submissions and the master gained or lost a cell, nbgrader
refuses to update its gradebook ("Cannot add or remove cells ... because there are
submissions"); the release then makes the gradebook follow the master as `grade` does
(`autograder.gradebook.reshape.follow_masters`: hand grades and comments kept) and builds again.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from autograder.course import REPO_ROOT, existing_assignments, load_config

#: nbgrader's refusal to change a gradebook notebook that has submissions.
CELLS_REFUSED = "Cannot add or remove cells"


class ReleaseError(RuntimeError):
    """The release of an assignment could not be built or was refused; course/ is unchanged."""


def release(assignments: list[str] | None = None, root: Path = REPO_ROOT,
            check: Callable[[str, Path], list] | None = None,
            notes: list[str] | None = None) -> list[Path]:
    """Build each assignment's release and swap it into course/; return the release folders.

    Solutions and hidden tests are stripped by nbgrader; outputs are cleared. ``check(
    assignment, built folder)`` may refuse a build (a non-empty list of problems); ``notes``
    collects what the release did to the gradebook. Raises ReleaseError naming the assignment.
    """
    assignments = assignments or existing_assignments(root)
    work = root / "work"
    work.mkdir(exist_ok=True)
    made = []
    for assignment in assignments:
        staging = Path(tempfile.mkdtemp(prefix=".release-", dir=work))
        try:
            built = _build(root, assignment, staging, notes)
            problems = check(assignment, built) if check else []
            if problems:
                raise ReleaseError(
                    f"{assignment} was not released (course/{assignment} is unchanged):\n  "
                    + "\n  ".join(str(p) for p in problems))
            made.append(_swap(built, root / "course" / assignment))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return made


@contextlib.contextmanager
def built_release(root: Path, assignment: str) -> Iterator[Path]:
    """The release of ``assignment`` as the masters are now, built in a staging folder with a
    gradebook of its own (course/ and the course's gradebook untouched); removed afterwards."""
    (root / "work").mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".check-", dir=root / "work"))
    try:
        yield _build(root, assignment, staging, None,
                     db_url=f"sqlite:///{staging / 'gradebook.db'}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build(root: Path, assignment: str, staging: Path, notes: list[str] | None,
           db_url: str | None = None) -> Path:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root)
    config.CourseDirectory.release_directory = str(staging)
    if db_url is not None:
        config.CourseDirectory.db_url = db_url
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    result = api.generate_assignment(assignment, force=True)
    log = str(result.get("log") or result.get("error") or "")
    if not result["success"] and CELLS_REFUSED in log:
        from autograder.gradebook.reshape import follow_masters

        changes = follow_masters(config.CourseDirectory.db_url, root / "solutions" / assignment,
                                 assignment)
        if notes is not None:
            notes += [f"the gradebook follows the master: {line}" for line in changes]
        result = api.generate_assignment(assignment, force=True)
        log = str(result.get("log") or result.get("error") or "")
    built = staging / assignment
    if not result["success"] or not built.is_dir():
        raise ReleaseError(f"nbgrader could not release {assignment} from solutions/"
                           f"{assignment}/ (course/{assignment} is unchanged):\n{log}")
    return built


def _swap(built: Path, target: Path) -> Path:
    """Put ``built`` where ``target`` is, by renames (the old release removed afterwards)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = built.parent / "previous"
        target.rename(old)
    try:
        shutil.move(str(built), str(target))
    except BaseException:
        if old is not None and not target.exists():
            old.rename(target)
        raise
    return target
