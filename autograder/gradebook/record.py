"""Record: the kit's ledger beside nbgrader's gradebook, which makes a batch resumable.

Only the parent process writes. A submission's grades, comments and its ledger row are committed
in one transaction, so a grader killed at any instant leaves each submission either fully
recorded (and skipped on the rerun) or not recorded at all (and graded on the rerun).
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from nbgrader.api import Gradebook
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

from autograder.grading.outcome import Outcome

if TYPE_CHECKING:  # the grading pipeline is the workers' to import, not every export's
    from autograder.grading.pipeline import NotebookResult

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


@dataclass(frozen=True)
class NotebookRecord:
    """One graded notebook of a submission: its autograded score and how grading ended."""

    score: float
    max_score: float
    outcome: Outcome
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds
    isolation: str = ""  # what isolated its kernel (`Sandbox.isolation`); "" if none ran

    def to_json(self) -> dict:
        """The ledger's (and results.json's `extra_data`) shape of a notebook."""
        data = {"score": self.score, "max_score": self.max_score,
                "error": None if self.outcome.graded else str(self.outcome),
                "seconds": self.seconds, "timings": dict(self.timings)}
        if self.isolation:  # only where a kernel ran (older ledgers read back unchanged)
            data["isolation"] = self.isolation
        return data

    @classmethod
    def from_json(cls, data: dict) -> NotebookRecord:
        return cls(score=data["score"], max_score=data["max_score"],
                   outcome=Outcome.from_text(data.get("error")),
                   seconds=float(data.get("seconds", 0.0)),
                   timings=dict(data.get("timings", {})),
                   isolation=str(data.get("isolation", "")))


@dataclass(frozen=True)
class SubmissionRecord:
    """One student's graded submission of one assignment, as the ledger holds it.

    Written once, by `record_submission`; every export, the grade table and the demo read it.
    `score` is the autograded total (nbgrader's gradebook adds manual grades on top).
    """

    student: str
    assignment: str
    score: float
    max_score: float
    notebooks: dict[str, NotebookRecord]  # notebook id -> its record
    graded_at: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.assignment)

    @property
    def outcome(self) -> Outcome:
        """The first named error among the notebooks (by name), else graded."""
        return next((nb.outcome for _, nb in sorted(self.notebooks.items())
                     if not nb.outcome.graded), Outcome())

    @property
    def errors(self) -> list[tuple[str, Outcome]]:
        """(notebook, named error) for each notebook that did not grade cleanly, by name."""
        return [(name, nb.outcome) for name, nb in sorted(self.notebooks.items())
                if not nb.outcome.graded]

    def detail(self) -> dict:
        """The ledger's `detail` JSON (also carried in results.json's `extra_data`), its keys
        sorted at every level as the ledger stores them, so exported files stay as they were."""
        return _sorted_keys({"notebooks": {name: nb.to_json()
                                           for name, nb in self.notebooks.items()},
                             "max_score": self.max_score, "score": self.score})

    @classmethod
    def from_detail(cls, student: str, assignment: str, detail: dict,
                    graded_at: str = "") -> SubmissionRecord:
        notebooks = {name: NotebookRecord.from_json(nb)
                     for name, nb in detail["notebooks"].items()}
        return cls(student, assignment, float(detail["score"]), float(detail["max_score"]),
                   notebooks, graded_at)


def _sorted_keys(value):
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    return value


def ledger_rows(db_url: str) -> list[SubmissionRecord]:
    """Every recorded submission, by student and assignment."""
    with Gradebook(db_url) as gb:
        rows = gb.db.execute(text(
            f"SELECT student, assignment, detail, graded_at FROM {LEDGER} "
            "ORDER BY student, assignment"))
        return [SubmissionRecord.from_detail(s, a, json.loads(d), t) for s, a, d, t in rows]


def record_submission(db_url: str, student: str, assignment: str, digest: str,
                      results: list[NotebookResult], autograded: Path) -> SubmissionRecord:
    """Write the autograded notebooks, then grades + ledger row in one transaction."""
    with warnings.catch_warnings():
        # nbgrader 0.9.6's session use trips SQLAlchemy 2's autoflush warnings (harmless)
        warnings.simplefilter("ignore", SAWarning)
        return _record(db_url, student, assignment, digest, results, autograded)


def _record(db_url: str, student: str, assignment: str, digest: str,
            results: list[NotebookResult], autograded: Path) -> SubmissionRecord:
    autograded.mkdir(parents=True, exist_ok=True)
    for result in results:
        if result.notebook_json is not None:
            target = autograded / f"{result.notebook}.ipynb"
            tmp = target.with_suffix(".ipynb.part")
            tmp.write_text(result.notebook_json, encoding="utf-8")
            tmp.replace(target)
    graded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
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
        max_scores = {notebook.name: float(notebook.max_score)
                      for notebook in submission.notebooks}
        record = SubmissionRecord(
            student, assignment, score=float(sum(r.score for r in results)),
            max_score=float(submission.max_score), graded_at=graded_at,
            notebooks={r.notebook: NotebookRecord(
                score=r.score, max_score=max_scores[r.notebook], outcome=r.outcome,
                seconds=round(r.seconds, 3),
                timings={k: round(v, 3) for k, v in r.timings.items()},
                isolation=r.isolation) for r in results})
        gb.db.execute(text(f"DELETE FROM {LEDGER} WHERE student = :s AND assignment = :a"),
                      {"s": student, "a": assignment})
        gb.db.execute(text(
            f"INSERT INTO {LEDGER} (student, assignment, digest, outcome, detail, graded_at) "
            "VALUES (:s, :a, :d, :o, :j, :t)"),
            {"s": student, "a": assignment, "d": digest, "o": record.outcome.kind.value,
             "j": json.dumps(record.detail(), sort_keys=True), "t": graded_at})
        gb.db.commit()
    return record


def forget(work: Path) -> None:
    """Remove everything grading wrote under `work` (the gradebook too)."""
    for name in ("submitted", "autograded", "feedback", "gradebook.db"):
        path = work / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
