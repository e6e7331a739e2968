"""The grade table printed at the end of a batch: one row per submission, errors named,
manual grades counted, written answers pending and late submissions shown, with the seconds
each took to grade and what grading this class takes on this machine."""

from __future__ import annotations

from autograder.exports.timing import (
    estimate_line,
    seconds_lines,
    submission_seconds,
    workers_of,
)
from autograder.gradebook.record import SubmissionRecord


def grade_table(rows: list[SubmissionRecord], entries: dict | None = None,
                workers: int = 0) -> str:
    """A plain-text table: student, assignment, score / max, grading seconds, outcome (with
    the named error), then the seconds per notebook and the estimate for the class.

    `entries` (`autograder.gradebook.view.gradebook_entries`) adds the gradebook's say: the
    score with manual grades and the late penalty, and notes for pending written answers and
    lateness. `workers`: the batch's (`Grader.workers`; 0, one per core), for the estimate."""
    entries = entries or {}
    header = ("student", "assignment", "score", "time", "outcome")
    lines = []
    details: list[str] = []
    warnings: list[str] = []
    pending_total = late_total = 0
    for row in rows:
        errors = row.errors
        outcome = "; ".join(f"{name}: {e.kind}" for name, e in errors) or "graded"
        details += [f"  {row.student}/{row.assignment}/{name}: {e}" for name, e in errors]
        warned = [(name, w) for name, nb in sorted(row.notebooks.items()) for w in nb.warnings]
        warnings += [f"  {row.student}/{row.assignment}/{name}: {w}" for name, w in warned]
        if warned:
            outcome += " with a warning"
        entry = entries.get(row.key)
        score = row.score if entry is None else entry.final
        notes = []
        if entry is not None and entry.pending:
            pending_total += 1
            notes.append(f"{sum(c.max_score for c in entry.pending):g} pts pending by hand")
        if entry is not None and entry.manual:
            notes.append(f"{entry.manual:g} pts by hand")
        if entry is not None and entry.late_text():
            late_total += 1
            notes.append(entry.late_text())
        if notes:
            outcome += " (" + "; ".join(notes) + ")"
        lines.append((row.student, row.assignment, f"{score:g} / {row.max_score:g}",
                      f"{submission_seconds(row):.1f} s", outcome))
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(4)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0]))]
    out.append("  ".join("-" * w for w in [*widths, 7]))
    for line in lines:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, [*widths, 0])).rstrip())
    graded = sum(1 for r in rows if r.outcome.graded)
    out.append(f"{len(rows)} submission(s): {graded} graded cleanly, "
               f"{len(rows) - graded} with a named error"
               + (f"; {pending_total} with written answers to grade by hand (formgrader)"
                  if pending_total else "")
               + (f"; {late_total} late" if late_total else ""))
    isolation = sorted({nb.isolation for r in rows for nb in r.notebooks.values()
                        if nb.isolation})
    if isolation:
        out.append("kernels isolated by: " + " | ".join(isolation))
    sources: dict[str, list[str]] = {}
    for row in rows:
        if row.time_source:
            sources.setdefault(row.time_source, []).append(f"{row.student}/{row.assignment}")
    if sources:
        out += ["", "Submission times from:"]
        out += [f"  {source}: {', '.join(keys)}" for source, keys in sorted(sources.items())]
    estimate = estimate_line(rows, workers_of(workers))
    if estimate:
        out += ["", estimate, *seconds_lines(rows)]
    if details:
        out += ["", "Errors:", *details]
    if warnings:
        out += ["", "Warnings:", *warnings]
    return "\n".join(out)
