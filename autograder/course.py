"""Where the course lives on disk, which assignments it has, and how nbgrader is configured.

Assignments are discovered: every folder of `solutions/` that holds master notebooks
(`*.ipynb`) is one, named by its folder (nbgrader's assignment id); `solutions/autodiff`, the
reference package, holds none and is not. The course configuration, `course.toml` at the
course root, lists them in course order with their due dates, the late policy and the
extensions (see README, "Running a term"). An assignment folder the file does not list is
still graded (after the listed ones, by name, with no due date).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"
COURSE_FILE = "course.toml"


class CourseFileError(ValueError):
    """course.toml says something the kit cannot use (named, with the fix)."""


@dataclass(frozen=True)
class LatePolicy:
    """Points taken off a late notebook: `per_day` of its score for each day (or part of one)
    late after `grace_minutes`, at most `max_fraction` of it. nbgrader's own
    `LateSubmissionPlugin` is configured from these (autograder.gradebook.late)."""

    per_day: float = 0.0  # fraction of the max score per day late (0.1: 10 % a day)
    max_fraction: float = 1.0
    grace_minutes: float = 0.0

    @property
    def penalizes(self) -> bool:
        return self.per_day > 0


@dataclass(frozen=True)
class CourseSettings:
    course_id: str = "autodiff"
    due: dict[str, datetime | None] = field(default_factory=dict)  # listed assignments, in order
    late: LatePolicy = field(default_factory=LatePolicy)
    extensions: dict[tuple[str, str], timedelta] = field(default_factory=dict)  # (student, a)

    def due_for(self, assignment: str, student: str | None = None) -> datetime | None:
        """The due date (naive UTC, as nbgrader stores it), a student's extension added."""
        due = self.due.get(assignment)
        if due is None:
            return None
        return due + self.extensions.get((student, assignment), timedelta()) if student else due


def _utc(value, where: str) -> datetime:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError as exc:
            raise CourseFileError(f"{where}: {value!r} is not a date and time "
                                  "(write 2026-03-01T23:59:00Z)") from exc
    else:
        raise CourseFileError(f"{where}: {value!r} is not a date and time")
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when


def course_settings(root: Path = REPO_ROOT) -> CourseSettings:
    """`<root>/course.toml` read (defaults when there is none)."""
    path = Path(root) / COURSE_FILE
    if not path.is_file():
        return CourseSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseFileError(f"{path}: {exc}") from exc
    due = {}
    for name, entry in data.get("assignments", {}).items():
        value = entry.get("due") if isinstance(entry, dict) else None
        due[name] = _utc(value, f"{path}: assignments.{name}.due") if value else None
    late = data.get("late", {})
    policy = LatePolicy(per_day=float(late.get("penalty_per_day", 0.0)),
                        max_fraction=float(late.get("max_penalty", 1.0)),
                        grace_minutes=float(late.get("grace_minutes", 0.0)))
    extensions = {}
    for entry in data.get("extensions", []):
        try:
            key = (str(entry["student"]), str(entry["assignment"]))
            extensions[key] = timedelta(days=float(entry.get("days", 0)),
                                        hours=float(entry.get("hours", 0)))
        except (KeyError, TypeError) as exc:
            raise CourseFileError(f"{path}: an [[extensions]] entry needs student, assignment "
                                  f"and days or hours ({entry!r})") from exc
    course_id = data.get("course", {}).get("id", "autodiff")
    return CourseSettings(course_id=course_id, due=due, late=policy, extensions=extensions)


def discovered_assignments(root: Path = REPO_ROOT) -> list[str]:
    """Every folder of `<root>/solutions/` holding master notebooks, by name."""
    solutions = Path(root) / "solutions"
    if not solutions.is_dir():
        return []
    return sorted(p.name for p in solutions.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))


def existing_assignments(root: Path = REPO_ROOT) -> list[str]:
    """The course's assignments in course order: those course.toml lists (that exist), then
    any other folder of masters, by name."""
    found = discovered_assignments(root)
    listed = [a for a in course_settings(root).due if a in found]
    return listed + [a for a in found if a not in listed]


def unlisted_assignments(root: Path = REPO_ROOT) -> list[str]:
    """Assignment folders course.toml does not list (they get no due date)."""
    listed = course_settings(root).due
    return [a for a in discovered_assignments(root) if a not in listed]


def load_config(root: Path = REPO_ROOT, work: Path | None = None) -> Config:
    """nbgrader's Config for this course: `autograder/nbgrader_config.py` with absolute paths.

    `work` (default `<root>/work`) holds the gradebook unless the config file sets `db_url`.
    """
    ensure_alembic_on_path()
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.CourseDirectory.root = str(root)
    work = Path(work) if work is not None else root / "work"
    if "db_url" not in config.CourseDirectory:
        config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    apply_course_settings(config, root)
    return config


def apply_course_settings(config: Config, root: Path) -> Config:
    """course.toml's late policy as nbgrader configuration: its LateSubmissionPlugin (used by
    nbgrader's own autograde too) is the kit's PerDayPenalty with these numbers."""
    settings = course_settings(root)
    config.AssignLatePenalties.plugin_class = "autograder.gradebook.late.PerDayPenalty"
    config.PerDayPenalty.per_day = settings.late.per_day
    config.PerDayPenalty.max_fraction = settings.late.max_fraction
    config.PerDayPenalty.grace_minutes = settings.late.grace_minutes
    return config


def ensure_alembic_on_path() -> None:
    """nbgrader shells out to `alembic`; make the running interpreter's bin/ findable."""
    bin_dir = str(Path(sys.executable).parent.absolute())
    found = shutil.which("alembic")
    if found is None or not Path(found).is_absolute():
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
