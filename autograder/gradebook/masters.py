"""The masters in the gradebook: loaded by nbgrader, with a digest of what was loaded.

A change to the masters (say, a fixed hidden test) changes their digest, which marks every
submission graded against the old ones as stale (`autograder.gradebook.batch` grades it again).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import text

from autograder.course import course_settings, load_config
from autograder.gradebook.record import ensure_ledger
from autograder.gradebook.reshape import follow_masters

MASTERS = "autograder_masters"
RELEASES = "autograder_releases"  # digest of the release the current masters make


def prepare_gradebook(root: Path, work: Path, assignments: list[str],
                      say=None) -> str:
    """Make sure the gradebook knows every assignment's notebooks and master cells.

    Runs nbgrader's generate_assignment into a throw-away release folder (the committed
    `course/` is left alone) so nbgrader's SaveCells stores the masters, hidden tests included.
    Cells added to (or removed from) a master after submissions exist are first added to (or
    removed from) the gradebook (`autograder.gradebook.reshape`), each change told to `say`.
    Returns the gradebook's db_url.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    work.mkdir(parents=True, exist_ok=True)
    config = load_config(root, work)
    db_url = config.CourseDirectory.db_url
    digests = {a: masters_digest(root, a) for a in assignments}
    _ensure_tables(db_url)
    loaded = loaded_masters(db_url)
    todo = [a for a in assignments if loaded.get(a) != digests[a]]
    if todo:
        with tempfile.TemporaryDirectory(dir=work) as scratch:
            config.CourseDirectory.release_directory = scratch
            api = NbGraderAPI(CourseDirectory(config=config), config=config)
            releases = {}
            for assignment in todo:
                for change in follow_masters(db_url, root / "solutions" / assignment,
                                             assignment):
                    if say is not None:
                        say(f"masters changed after submissions: {change}; submissions made "
                            "before are graded against the current masters")
                result = api.generate_assignment(assignment, force=True)
                if not result["success"]:
                    raise RuntimeError(
                        f"nbgrader could not load the masters of {assignment} from "
                        f"{root / 'solutions' / assignment} into the gradebook:\n"
                        f"{result.get('log') or result.get('error')}")
                releases[assignment] = release_digest(Path(scratch) / assignment)
        with Gradebook(db_url) as gb:  # what `make release` would write now, per assignment
            for assignment, digest in releases.items():
                gb.db.execute(text(f"DELETE FROM {RELEASES} WHERE assignment = :a"),
                              {"a": assignment})
                gb.db.execute(text(f"INSERT INTO {RELEASES} (assignment, digest) VALUES "
                                   "(:a, :d)"), {"a": assignment, "d": digest})
            gb.db.commit()
    settings = course_settings(root)
    with Gradebook(db_url) as gb:  # due dates from course.toml, always current
        for assignment in assignments:
            gb.update_or_create_assignment(assignment, duedate=settings.due_for(assignment))
        gb.db.commit()
    if todo:
        with Gradebook(db_url) as gb:
            for assignment in todo:
                gb.db.execute(text(f"DELETE FROM {MASTERS} WHERE assignment = :a"),
                              {"a": assignment})
                gb.db.execute(text(f"INSERT INTO {MASTERS} (assignment, digest) VALUES "
                                   "(:a, :d)"), {"a": assignment, "d": digests[assignment]})
            gb.db.commit()
    return db_url


def _ensure_tables(db_url: str) -> None:
    with Gradebook(db_url) as gb:
        ensure_ledger(gb)
        gb.db.execute(text(
            f"CREATE TABLE IF NOT EXISTS {MASTERS} (assignment VARCHAR(128) PRIMARY KEY, "
            "digest VARCHAR(64) NOT NULL)"))
        gb.db.execute(text(
            f"CREATE TABLE IF NOT EXISTS {RELEASES} (assignment VARCHAR(128) PRIMARY KEY, "
            "digest VARCHAR(64) NOT NULL)"))
        gb.db.commit()


def release_digest(folder: Path) -> str:
    """Hash of a release folder's notebooks (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.ipynb")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def stale_releases(root: Path, db_url: str, assignments: list[str]) -> list[str]:
    """Assignments whose committed release (`course/<id>/`) is not what their current
    masters make: students are working from an older release (`make release` fixes it)."""
    with Gradebook(db_url) as gb:
        rows = gb.db.execute(text(f"SELECT assignment, digest FROM {RELEASES}")).fetchall()
    made = {a: d for a, d in rows}
    return [a for a in assignments
            if a in made and release_digest(Path(root) / "course" / a) != made[a]]


def masters_digest(root: Path, assignment: str) -> str:
    h = hashlib.sha256()
    for path in sorted((root / "solutions" / assignment).glob("*.ipynb")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def loaded_masters(db_url: str) -> dict[str, str]:
    """assignment -> digest of the masters the gradebook holds (`masters_digest` when loaded)."""
    with Gradebook(db_url) as gb:
        in_nbgrader = {a.name for a in gb.assignments}
        rows = gb.db.execute(text(f"SELECT assignment, digest FROM {MASTERS}")).fetchall()
    return {assignment: digest for assignment, digest in rows if assignment in in_nbgrader}


def catalogue(db_url: str, assignments: list[str]) -> dict[str, list[str]]:
    """assignment -> its notebook ids, as the gradebook has them."""
    with Gradebook(db_url) as gb:
        return {a: sorted(nb.name for nb in gb.find_assignment(a).notebooks) for a in assignments}


def known_cell_ids(db_url: str, assignment: str, notebook: str) -> list[str]:
    with Gradebook(db_url) as gb:
        return [c.name for c in gb.find_notebook(notebook, assignment).source_cells]


def grade_cell_points(db_url: str, assignment: str) -> dict[str, dict[str, float]]:
    """notebook id -> {grade id: the points the masters give it}, for `assignment`."""
    with Gradebook(db_url) as gb:
        return {nb.name: {cell.name: float(cell.max_score) for cell in nb.grade_cells}
                for nb in gb.find_assignment(assignment).notebooks}
