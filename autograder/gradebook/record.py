"""Record: the kit's ledger beside nbgrader's gradebook, which makes a batch resumable.

Only the parent process writes. A submission's grades, comments and its ledger row are committed
in one transaction, so a grader killed at any instant leaves each submission either fully
recorded (and skipped on the rerun) or not recorded at all (and graded on the rerun).
"""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

LEDGER = "autograder_ledger"


def ensure_ledger(gb: Gradebook) -> None:
    """Create the ledger table beside nbgrader's tables if it is not there (not committed)."""
    gb.db.execute(text(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} (student VARCHAR(128) NOT NULL, "
        "assignment VARCHAR(128) NOT NULL, digest VARCHAR(64) NOT NULL, "
        "outcome TEXT NOT NULL, detail TEXT NOT NULL, graded_at VARCHAR(40) NOT NULL, "
        "PRIMARY KEY (student, assignment))"))


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
