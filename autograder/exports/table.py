"""The grade table printed at the end of a batch: one row per submission, errors named."""

from __future__ import annotations

from autograder.gradebook.record import SubmissionRecord


def grade_table(rows: list[SubmissionRecord]) -> str:
    """A plain-text table: student, assignment, score / max, outcome (with the named error)."""
    header = ("student", "assignment", "score", "outcome")
    lines = []
    details: list[str] = []
    for row in rows:
        errors = row.errors
        outcome = "; ".join(f"{name}: {e.kind}" for name, e in errors) or "graded"
        details += [f"  {row.student}/{row.assignment}/{name}: {e}" for name, e in errors]
        lines.append((row.student, row.assignment, f"{row.score:g} / {row.max_score:g}", outcome))
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(3)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0]))]
    out.append("  ".join("-" * w for w in [*widths, 7]))
    for line in lines:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, [*widths, 0])).rstrip())
    graded = sum(1 for r in rows if r.outcome.graded)
    out.append(f"{len(rows)} submission(s): {graded} graded cleanly, "
               f"{len(rows) - graded} with a named error")
    isolation = sorted({nb.isolation for r in rows for nb in r.notebooks.values()
                        if nb.isolation})
    if isolation:
        out.append("kernels isolated by: " + " | ".join(isolation))
    if details:
        out += ["", "Errors:", *details]
    return "\n".join(out)
