"""Answers computed by a library or the kit rather than the student's own formula.

Such an answer passes when its numbers are right (a textbook formula can be less exact than a
difference quotient, so the tolerances do not try to tell them apart); whether it earns the
points is the instructor's call. This lists each one, per student and exercise, from two
signals:

* static, read here from the answer cells of the autograded notebook: an import or a call of
  HIPS autograd, JAX, PyTorch, TensorFlow, SymPy, the reference package ``autodiff``,
  ``np.gradient``, SciPy's difference helpers or coursekit itself;
* at run time, what the kernel's answers said the code called while a check ran it (recorded
  by the grader as the test cell's ``generic`` note). The kernel is the student's, so this one
  can be hidden; the static one cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Patterns in an answer cell's source -> what the report calls them.
STATIC_SIGNALS = {
    r"\bautograd\b": "HIPS autograd",
    r"\bjax\b": "JAX",
    r"\btorch\b": "PyTorch",
    r"\btensorflow\b": "TensorFlow",
    r"\bsympy\b": "SymPy",
    r"\bautodiff\b": "the reference package autodiff",
    r"\b(np|numpy)\s*\.\s*gradient\b": "np.gradient",
    r"\bapprox_fprime\b|\bscipy\s*\.\s*(misc|differentiate)\b": "SciPy finite differences",
    r"\bcoursekit\b": "coursekit's helpers",
}


@dataclass(frozen=True)
class GenericAnswer:
    student: str
    assignment: str
    notebook: str
    cell: str  # the answer's or the test's grade_id
    signals: tuple[str, ...]
    how: str  # "in the source" or "while a check ran it"


def static_signals(source: str) -> list[str]:
    """What an answer's source uses, of :data:`STATIC_SIGNALS` (comments and strings count:
    the instructor looks at each one listed)."""
    return [name for pattern, name in STATIC_SIGNALS.items() if re.search(pattern, source)]


def generic_answers(work: Path, rows) -> list[GenericAnswer]:
    """Every answer cell with a static signal and every test cell whose answers reported one,
    in the autograded notebooks of ``rows`` (ledger rows)."""
    import nbformat

    from autograder.grading.steps.verify_grade_cells import VERDICT_KEY

    found = []
    for row in rows:
        folder = Path(work) / "autograded" / row.student / row.assignment
        for notebook in row.notebooks:
            path = folder / f"{notebook}.ipynb"
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001 (missing or unreadable: nothing to list)
                continue
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                grade_id = str(meta.get("grade_id", ""))
                if cell.cell_type == "code" and meta.get("solution"):
                    signals = static_signals(cell.source)
                    if signals:
                        found.append(GenericAnswer(row.student, row.assignment, notebook,
                                                   grade_id, tuple(signals), "in the source"))
                verdict = cell.metadata.get(VERDICT_KEY)
                generic = verdict.get("generic") if isinstance(verdict, dict) else None
                if isinstance(generic, list) and generic:
                    found.append(GenericAnswer(row.student, row.assignment, notebook, grade_id,
                                               tuple(str(g)[:60] for g in generic[:8]),
                                               "while a check ran it"))
    return found
