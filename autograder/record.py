"""Record: the gradebook (nbgrader's) and the ledger that makes a batch resumable.

Only the parent process writes. A submission's grades, comments and its ledger row are committed
in one transaction, so a grader killed at any instant leaves each submission either fully
recorded (and skipped on the rerun) or not recorded at all (and graded on the rerun).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

from autograder.course import load_config

LEDGER = "autograder_ledger"
MASTERS = "autograder_masters"


def prepare_gradebook(root: Path, work: Path, assignments: list[str]) -> str:
    """Make sure the gradebook knows every assignment's notebooks and master cells.

    Runs nbgrader's generate_assignment into a throw-away release folder (the committed
    `course/` is left alone) so nbgrader's SaveCells stores the masters, hidden tests included.
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
            for assignment in todo:
                result = api.generate_assignment(assignment, force=True)
                if not result["success"]:
                    raise RuntimeError(
                        f"nbgrader could not load the masters of {assignment} from "
                        f"{root / 'solutions' / assignment} into the gradebook:\n"
                        f"{result.get('log') or result.get('error')}")
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
        gb.db.execute(text(
            f"CREATE TABLE IF NOT EXISTS {LEDGER} (student VARCHAR(128) NOT NULL, "
            "assignment VARCHAR(128) NOT NULL, digest VARCHAR(64) NOT NULL, "
            "outcome TEXT NOT NULL, detail TEXT NOT NULL, graded_at VARCHAR(40) NOT NULL, "
            "PRIMARY KEY (student, assignment))"))
        gb.db.execute(text(
            f"CREATE TABLE IF NOT EXISTS {MASTERS} (assignment VARCHAR(128) PRIMARY KEY, "
            "digest VARCHAR(64) NOT NULL)"))
        gb.db.commit()


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


def recorded(db_url: str) -> dict[tuple[str, str], str]:
    """(student, assignment) -> digest of every submission already recorded."""
    with Gradebook(db_url) as gb:
        rows = gb.db.execute(text(f"SELECT student, assignment, digest FROM {LEDGER}"))
        return {(s, a): d for s, a, d in rows}


def ledger_rows(db_url: str) -> list[dict]:
    with Gradebook(db_url) as gb:
        rows = gb.db.execute(text(
            f"SELECT student, assignment, outcome, detail, graded_at FROM {LEDGER} "
            "ORDER BY student, assignment"))
        return [{"student": s, "assignment": a, "outcome": o, "detail": json.loads(d),
                 "graded_at": t} for s, a, o, d, t in rows]


def record_submission(db_url: str, student: str, assignment: str, digest: str,
                      results: list, autograded: Path) -> dict:
    """Write the autograded notebooks, then grades + ledger row in one transaction."""
    with warnings.catch_warnings():
        # nbgrader 0.9.6's session use trips SQLAlchemy 2's autoflush warnings (harmless)
        warnings.simplefilter("ignore", SAWarning)
        return _record(db_url, student, assignment, digest, results, autograded)


def _record(db_url: str, student: str, assignment: str, digest: str, results: list,
            autograded: Path) -> dict:
    autograded.mkdir(parents=True, exist_ok=True)
    for result in results:
        if result.notebook_json is not None:
            target = autograded / f"{result.notebook}.ipynb"
            tmp = target.with_suffix(".ipynb.part")
            tmp.write_text(result.notebook_json, encoding="utf-8")
            tmp.replace(target)
    errors = [r.error for r in results if r.error]
    outcome = errors[0].split(":", 1)[0] if errors else "graded"
    detail = {
        "notebooks": {r.notebook: {"score": r.score, "max_score": sum(r.max_scores.values()),
                                   "error": r.error, "seconds": round(r.seconds, 3),
                                   "timings": {k: round(v, 3) for k, v in r.timings.items()}}
                      for r in results},
    }
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for result in results:
            notebook = next(n for n in submission.notebooks if n.name == result.notebook)
            for grade in notebook.grades:
                score = result.scores.get(grade.name, 0.0)
                grade.auto_score = score
                grade.needs_manual_grade = score is None or grade.manual_score is not None
            for comment in notebook.comments:
                comment.auto_comment = ("No response." if comment.name in result.no_response
                                        else None)
        for notebook in submission.notebooks:
            detail["notebooks"][notebook.name]["max_score"] = float(notebook.max_score)
        detail["max_score"] = float(submission.max_score)
        detail["score"] = float(sum(r.score for r in results))
        gb.db.execute(text(f"DELETE FROM {LEDGER} WHERE student = :s AND assignment = :a"),
                      {"s": student, "a": assignment})
        gb.db.execute(text(
            f"INSERT INTO {LEDGER} (student, assignment, digest, outcome, detail, graded_at) "
            "VALUES (:s, :a, :d, :o, :j, :t)"),
            {"s": student, "a": assignment, "d": digest, "o": outcome,
             "j": json.dumps(detail, sort_keys=True),
             "t": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        gb.db.commit()
    return {"student": student, "assignment": assignment, "outcome": outcome, **detail}


def forget(work: Path) -> None:
    """Remove everything grading wrote under `work` (the gradebook too)."""
    for name in ("submitted", "autograded", "feedback", "gradebook.db"):
        path = work / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
