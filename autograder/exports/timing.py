"""How long grading takes, as an instructor plans with it: seconds per notebook and a class.

Read from the ledger's records (`NotebookRecord.seconds`: one notebook in its worker, from
loading it to its scores, kernel start included; `timings`: the same split by step). The grade
table, `autograder report` and `make bench` print these figures.
"""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from autograder.gradebook.record import SubmissionRecord

# The split of a notebook's seconds, in the order the pipeline spends them.
STEPS = ("load + sanitize", "kernel start", "cells + kernel stop", "test cells", "verify + score")


@dataclass(frozen=True)
class NotebookTime:
    """Seconds one notebook of an assignment took to grade, over the submissions that ran it."""

    assignment: str
    notebook: str
    seconds: list[float]
    steps: dict[str, float] = field(default_factory=dict)  # step -> median seconds

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def longest(self) -> float:
        return max(self.seconds)

    @property
    def name(self) -> str:
        return f"{self.assignment}/{self.notebook}"


def notebook_times(rows: list[SubmissionRecord]) -> list[NotebookTime]:
    """Per (assignment, notebook), the seconds of every submission whose kernel ran it
    (a notebook refused before it ran, say not submitted, costs nothing and is left out)."""
    seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
    steps: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for name, nb in row.notebooks.items():
            if not nb.isolation or nb.seconds <= 0:
                continue
            key = (row.assignment, name)
            seconds[key].append(nb.seconds)
            for step, took in nb.timings.items():
                steps[key][step].append(took)
    return [NotebookTime(a, n, s, {k: statistics.median(v) for k, v in steps[(a, n)].items()})
            for (a, n), s in sorted(seconds.items())]


def workers_of(configured: int) -> int:
    """The workers a batch runs with: `Grader.workers`, 0 meaning one per core."""
    return configured or os.cpu_count() or 1


def class_minutes(rows: list[SubmissionRecord], workers: int) -> tuple[float, int, int]:
    """(minutes, students, notebooks): grading every student of the class once, each notebook
    at its median time, spread over `workers` processes."""
    times = notebook_times(rows)
    students = {row.student for row in rows}
    work = sum(t.median for t in times) * len(students)
    return work / max(workers, 1) / 60, len(students), len(times)


def estimate_line(rows: list[SubmissionRecord], workers: int) -> str:
    """'Grading time: about N min for this class on this machine ...', or "" with no times."""
    minutes, students, notebooks = class_minutes(rows, workers)
    if not notebooks:
        return ""
    shown = f"{minutes:.0f}" if minutes >= 1.5 else f"{minutes:.1f}"
    return (f"Grading time: about {shown} min for this class on this machine ({students} "
            f"student(s) x {notebooks} notebook(s) at the median seconds below, "
            f"{workers} worker(s))")


def seconds_lines(rows: list[SubmissionRecord]) -> list[str]:
    """One line per notebook: median and longest seconds, and the median split by step."""
    lines = []
    for t in notebook_times(rows):
        split = ", ".join(f"{step} {t.steps[step]:.1f}" for step in STEPS if step in t.steps)
        lines.append(f"  {t.name}: median {t.median:.1f} s, longest {t.longest:.1f} s over "
                     f"{len(t.seconds)} submission(s)" + (f" ({split})" if split else ""))
    return lines


def submission_seconds(row: SubmissionRecord) -> float:
    """Seconds all of a submission's notebooks took, in their workers."""
    return float(sum(nb.seconds for nb in row.notebooks.values()))
