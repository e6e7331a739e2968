"""Points stated in a notebook's prose against its nbgrader metadata.

Two kinds of statement are read from markdown cells: a total ("14 points in all",
"28 in all") must equal the sum of the notebook's grade cells' points; an exercise heading
("Exercise 1 (2 points)", "Exercise 5 — `_pow` (2 points)", "**Exercise 3 (2 points): ...**")
must equal the points of the grade cells between it and the next exercise heading. Ranges
("Exercises 2–12 ... 1 point each") are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbgrader import utils

TOTAL = re.compile(r"\b(\d+(?:\.\d+)?)\s+(?:points\s+)?in all\b")
EXERCISE = re.compile(r"\bExercise\s+(\d+)\b(?!\s*[–-]\s*\d)")
POINTS = re.compile(r"\((?:[^()]*?)\b(\d+(?:\.\d+)?)\s+points?\b")


def _points(cell) -> float:
    return float(cell.metadata.nbgrader.get("points", 0) or 0) if utils.is_grade(cell) else 0.0


def disagreements(path: Path) -> list[str]:
    """One line per statement that disagrees with the metadata (empty: all agree)."""
    nb = nbformat.read(path, as_version=4)
    total = sum(_points(c) for c in nb.cells)
    problems = []
    current: tuple[str, float, str] | None = None  # (exercise, stated, heading)
    found = 0.0

    def close():
        if current is not None and found != current[1]:
            problems.append(f"{path.name}: Exercise {current[0]} says {current[1]:g} points "
                            f"(\"{current[2]}\") but its grade cells hold {found:g}")

    for cell in nb.cells:
        if cell.cell_type == "markdown" and not utils.is_grade(cell):
            for line in cell.source.splitlines():
                for match in TOTAL.finditer(line):
                    if float(match.group(1)) != total:
                        problems.append(f"{path.name}: the prose says {match.group(0)!r} but "
                                        f"the grade cells hold {total:g} points")
                exercise = EXERCISE.search(line)
                stated = POINTS.search(line[exercise.end():]) if exercise else None
                if exercise and stated:
                    close()
                    current, found = (exercise.group(1), float(stated.group(1)),
                                      line.strip()[:80]), 0.0
        found += _points(cell)
    close()
    return problems
