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

from autograder.collect.submissions import TIME_SOURCE_FILE
from autograder.gradebook.late import set_penalties
from autograder.grading.outcome import Outcome

if TYPE_CHECKING:  # the grading pipeline is the workers' to import, not every export's
    from autograder.grading.pipeline import NotebookResult

LEDGER = "autograder_ledger"


def ensure_ledger(gb: Gradebook) -> None:
    """Create the ledger table beside nbgrader's tables if it is not there (not committed).

    `basis` is what a grade was decided against (masters, coursekit, limits:
    `autograder.gradebook.batch.grading_basis`); a ledger from before it has the column added."""
    gb.db.execute(text(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} (student VARCHAR(128) NOT NULL, "
        "assignment VARCHAR(128) NOT NULL, digest VARCHAR(64) NOT NULL, "
        "outcome TEXT NOT NULL, detail TEXT NOT NULL, graded_at VARCHAR(40) NOT NULL, "
        "basis VARCHAR(64) NOT NULL DEFAULT '', PRIMARY KEY (student, assignment))"))
    columns = {row[1] for row in gb.db.execute(text(f"PRAGMA table_info({LEDGER})"))}
    if "basis" not in columns:
        gb.db.execute(text(f"ALTER TABLE {LEDGER} ADD COLUMN basis VARCHAR(64) NOT NULL "
                           "DEFAULT ''"))


def recorded_bases(db_url: str) -> dict[tuple[str, str], str]:
    """(student, assignment) -> the basis each recorded grade was decided against."""
    with Gradebook(db_url) as gb:
        rows = gb.db.execute(text(f"SELECT student, assignment, basis FROM {LEDGER}"))
        return {(s, a): b for s, a, b in rows}


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
    warnings: tuple[str, ...] = ()  # graded, with something the student should know

    def to_json(self) -> dict:
        """The ledger's (and results.json's `extra_data`) shape of a notebook."""
        data = {"score": self.score, "max_score": self.max_score,
                "error": None if self.outcome.graded else str(self.outcome),
                "seconds": self.seconds, "timings": dict(self.timings)}
        if self.isolation:  # only where a kernel ran (older ledgers read back unchanged)
            data["isolation"] = self.isolation
        if self.warnings:  # likewise only when there is one
            data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_json(cls, data: dict) -> NotebookRecord:
        return cls(score=data["score"], max_score=data["max_score"],
                   outcome=Outcome.from_text(data.get("error")),
                   seconds=float(data.get("seconds", 0.0)),
                   timings=dict(data.get("timings", {})),
                   isolation=str(data.get("isolation", "")),
                   warnings=tuple(str(w) for w in data.get("warnings", ())))


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
    time_source: str = ""  # where the submission time came from (or why there is none)

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
        detail = {"notebooks": {name: nb.to_json() for name, nb in self.notebooks.items()},
                  "max_score": self.max_score, "score": self.score}
        if self.time_source:
            detail["time_source"] = self.time_source
        return _sorted_keys(detail)

    @classmethod
    def from_detail(cls, student: str, assignment: str, detail: dict,
                    graded_at: str = "") -> SubmissionRecord:
        notebooks = {name: NotebookRecord.from_json(nb)
                     for name, nb in detail["notebooks"].items()}
        return cls(student, assignment, float(detail["score"]), float(detail["max_score"]),
                   notebooks, graded_at, str(detail.get("time_source", "")))


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
                      results: list[NotebookResult], autograded: Path,
                      submitted: Path | None = None, basis: str = "",
                      kept: dict[str, NotebookRecord] | None = None,
                      late: tuple | None = None) -> SubmissionRecord:
    """Write the autograded notebooks, then grades + ledger row in one transaction.

    `submitted`: the collected folder, whose `timestamp.txt` and `submission_secret.txt` go
    beside the autograded notebooks (nbgrader's generate_feedback carries them to the
    feedback folder, where release_feedback reads them). `basis`: what the grade was decided
    against. `kept`: notebooks not regraded this time (`grade --notebook`), as recorded.
    `late`: (LatePolicy, the student's extension) for nbgrader's late penalties."""
    with warnings.catch_warnings():
        # nbgrader 0.9.6's session use trips SQLAlchemy 2's autoflush warnings (harmless)
        warnings.simplefilter("ignore", SAWarning)
        return _record(db_url, student, assignment, digest, results, autograded, submitted,
                       basis, kept or {}, late)


def carry_exchange_files(submitted: Path | None, autograded: Path, graded_at: str) -> None:
    """timestamp.txt and submission_secret.txt in the autograded folder, as nbgrader's
    autograde leaves them: copied from the submission, else made (the grading time; a random
    secret, for layouts that never went through the exchange)."""
    import secrets

    for name in ("timestamp.txt", "submission_secret.txt"):
        source = submitted / name if submitted is not None else None
        target = autograded / name
        if source is not None and source.is_file():
            shutil.copyfile(source, target)
        elif not target.exists():
            target.write_text(
                datetime.fromisoformat(graded_at).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
                if name == "timestamp.txt" else secrets.token_hex(32))


def _record(db_url: str, student: str, assignment: str, digest: str,
            results: list[NotebookResult], autograded: Path,
            submitted: Path | None = None, basis: str = "",
            kept: dict[str, NotebookRecord] | None = None,
            late: tuple | None = None) -> SubmissionRecord:
    kept = {k: v for k, v in (kept or {}).items() if k not in {r.notebook for r in results}}
    autograded.mkdir(parents=True, exist_ok=True)
    for result in results:
        if result.notebook_json is not None:
            target = autograded / f"{result.notebook}.ipynb"
            tmp = target.with_suffix(".ipynb.part")
            tmp.write_text(result.notebook_json, encoding="utf-8")
            tmp.replace(target)
    graded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    carry_exchange_files(submitted, autograded, graded_at)
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        stamp = submitted / "timestamp.txt" if submitted is not None else None
        fields = {}
        if stamp is not None and stamp.is_file():  # nbgrader computes lateness from it
            from nbgrader.utils import parse_utc

            fields["timestamp"] = parse_utc(stamp.read_text().strip())
        if late is not None and late[1]:
            fields["extension"] = late[1]
        submission = gb.update_or_create_submission(assignment, student, **fields)
        for result in results:
            notebook = next(n for n in submission.notebooks if n.name == result.notebook)
            for grade in notebook.grades:
                score = result.scores.get(grade.name, 0.0)
                grade.auto_score = score
                if grade.manual_score is None:  # a written answer waits for a TA until graded
                    grade.needs_manual_grade = score is None
                # graded by hand already: left as the TA left it, so a regrade (a fixed
                # master, a new exercise) never asks for the class's answers again
            for comment in notebook.comments:
                comment.auto_comment = ("No response." if comment.name in result.no_response
                                        else None)
        gb.db.flush()
        seconds_late = float(submission.total_seconds_late or 0) if fields else 0.0
        set_penalties(submission, late[0] if late is not None else None, seconds_late)
        max_scores = {notebook.name: float(notebook.max_score)
                      for notebook in submission.notebooks}
        notebooks = {r.notebook: NotebookRecord(
            score=r.score, max_score=max_scores[r.notebook], outcome=r.outcome,
            seconds=round(r.seconds, 3),
            timings={k: round(v, 3) for k, v in r.timings.items()},
            isolation=r.isolation, warnings=tuple(r.warnings)) for r in results}
        notebooks.update(kept)
        source = submitted / TIME_SOURCE_FILE if submitted is not None else None
        record = SubmissionRecord(
            student, assignment, score=float(sum(nb.score for nb in notebooks.values())),
            max_score=float(submission.max_score), graded_at=graded_at,
            notebooks=dict(sorted(notebooks.items())),
            time_source=(source.read_text().strip()
                         if source is not None and source.is_file() else ""))
        gb.db.execute(text(f"DELETE FROM {LEDGER} WHERE student = :s AND assignment = :a"),
                      {"s": student, "a": assignment})
        gb.db.execute(text(
            f"INSERT INTO {LEDGER} (student, assignment, digest, outcome, detail, graded_at, "
            "basis) VALUES (:s, :a, :d, :o, :j, :t, :b)"),
            {"s": student, "a": assignment, "d": digest, "o": record.outcome.kind.value,
             "j": json.dumps(record.detail(), sort_keys=True), "t": graded_at, "b": basis})
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
