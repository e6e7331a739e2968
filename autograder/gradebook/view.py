"""The gradebook as the exports show it: manual grades, pending written answers, lateness.

The ledger (`autograder.gradebook.record`) holds how autograding went; nbgrader's gradebook
holds the grade of record: the autograded scores, what a grader entered in formgrader (a
manual score overrides the autograded one, as in nbgrader), comments, the submission time,
the due date with the student's extension, and the late penalty.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from autograder.gradebook.late import days_late


@dataclass(frozen=True)
class CellGrade:
    notebook: str
    grade_id: str
    max_score: float
    auto_score: float | None
    manual_score: float | None
    needs_manual_grade: bool
    written: bool  # a markdown answer, graded by hand
    comment: str | None = None

    @property
    def pending(self) -> bool:
        """Waiting for a grader: nbgrader flags it and nobody has entered a score."""
        return self.needs_manual_grade and self.manual_score is None

    @property
    def score(self) -> float:
        if self.manual_score is not None:
            return float(self.manual_score)
        return float(self.auto_score or 0)


@dataclass(frozen=True)
class GradebookEntry:
    """One submission as nbgrader's gradebook has it."""

    student: str
    assignment: str
    score: float  # autograded + manual, before the late penalty
    max_score: float
    late_penalty: float
    timestamp: datetime | None  # naive UTC
    seconds_late: float
    cells: list[CellGrade] = field(default_factory=list)

    @property
    def pending(self) -> list[CellGrade]:
        return [c for c in self.cells if c.pending]

    @property
    def manual(self) -> float:
        return float(sum(c.manual_score for c in self.cells if c.manual_score is not None))

    @property
    def final(self) -> float:
        return max(self.score - self.late_penalty, 0.0)

    @property
    def days_late(self) -> int:
        return days_late(self.seconds_late)

    def late_text(self) -> str:
        if not self.seconds_late:
            return ""
        hours = self.seconds_late / 3600
        if hours < 1:
            when = f"{max(1, round(self.seconds_late / 60))} min"
        elif hours < 48:
            when = f"{hours:.1f} h"
        else:
            when = f"{hours / 24:.1f} days"
        return f"late by {when}" + (f" (-{self.late_penalty:g} points)" if self.late_penalty
                                    else "")


def gradebook_entries(db_url: str) -> dict[tuple[str, str], GradebookEntry]:
    """(student, assignment) -> its entry, for every submission in the gradebook."""
    entries = {}
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore", SAWarning)
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                cells = []
                for nb in sub.notebooks:
                    comments = {c.name: c.comment for c in nb.comments}
                    for grade in nb.grades:
                        cells.append(CellGrade(
                            nb.name, grade.name, float(grade.max_score or 0),
                            grade.auto_score, grade.manual_score,
                            bool(grade.needs_manual_grade),
                            grade.cell.cell_type == "markdown", comments.get(grade.name)))
                penalty = sum(float(nb.late_submission_penalty or 0) for nb in sub.notebooks)
                seconds_late = float(sub.total_seconds_late or 0) if sub.timestamp else 0.0
                entries[(sub.student.id, assignment.name)] = GradebookEntry(
                    sub.student.id, assignment.name, float(sub.score or 0),
                    float(sub.max_score or 0), penalty, sub.timestamp, seconds_late,
                    sorted(cells, key=lambda c: (c.notebook, c.grade_id)))
    return entries
