"""Late work in nbgrader's own model: the gradebook's due dates and per-submission extensions
give `total_seconds_late`; a `LateSubmissionPlugin` turns that into each notebook's
`late_submission_penalty`.

`PerDayPenalty` is that plugin, configured from `course.toml`'s `[late]` table
(`autograder.course.apply_course_settings`), so nbgrader's own `autograde` and the kit's
grader take the same points off: `penalty_per_day` of the notebook's score for each day, or
part of a day, late after `grace_minutes`, at most `max_penalty` of it.
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

DAY = 86_400.0


def days_late(total_seconds_late: float, grace_minutes: float = 0.0) -> int:
    """Whole days late, a started day counting as one; 0 within the grace period."""
    late = float(total_seconds_late or 0) - 60.0 * grace_minutes
    return 0 if late <= 0 else math.ceil(late / DAY)


def penalty_for(score: float, total_seconds_late: float, per_day: float, max_fraction: float,
                grace_minutes: float = 0.0) -> float:
    """Points taken off a notebook scoring `score` that came in this late."""
    days = days_late(total_seconds_late, grace_minutes)
    if days == 0 or per_day <= 0 or not score:
        return 0.0
    return round(float(score) * min(per_day * days, max_fraction, 1.0), 6)


class PerDayPenalty(LateSubmissionPlugin):
    """A fraction of the notebook's score per day late, capped (see the module docstring)."""

    per_day = Float(0.0, help="fraction of the score taken per day late").tag(config=True)
    max_fraction = Float(1.0, help="at most this fraction of the score").tag(config=True)
    grace_minutes = Float(0.0, help="minutes after the due date that are not late").tag(
        config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return penalty_for(score, total_seconds_late, self.per_day, self.max_fraction,
                           self.grace_minutes)


def set_penalties(submission, policy, seconds_late: float) -> int:
    """Give each notebook of an nbgrader `submission` the penalty of its score now (None when
    on time or without a `policy`), as nbgrader's AssignLatePenalties does. Returns how many
    penalties changed."""
    changed = 0
    for notebook in submission.notebooks:
        penalty = None
        if policy is not None and seconds_late > 0:
            score = sum(float(g.score or 0) for g in notebook.grades)
            penalty = penalty_for(score, seconds_late, policy.per_day, policy.max_fraction,
                                  policy.grace_minutes) or None
        if penalty != notebook.late_submission_penalty:
            notebook.late_submission_penalty = penalty
            changed += 1
    return changed


def refresh_penalties(db_url: str, root) -> int:
    """Recompute every late notebook's penalty from its score now (manual grades from
    formgrader included), as nbgrader's AssignLatePenalties does when it makes feedback; the
    penalty stored at grading time was taken from the autograded score alone. Returns how many
    penalties changed."""
    from nbgrader.api import Gradebook

    from autograder.course import course_settings

    policy = course_settings(root).late
    changed = 0
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                seconds = float(submission.total_seconds_late or 0) if submission.timestamp \
                    else 0.0
                changed += set_penalties(submission, policy, seconds)
        gb.db.commit()
    return changed
