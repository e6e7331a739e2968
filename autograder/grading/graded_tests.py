"""The master's test cells a notebook is graded by, and the imports they may use.

Every test cell the grader runs comes from here: the source nbgrader keeps of the master in the
gradebook (the release's test cell, hidden part included), never the submission's copy, and the
setup imports of the master notebook's code cells. Both are read once per notebook
(`autograder.grading.master_source`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nbgrader import utils

from autograder.grading.master_source import kept_cells, master_notebook
from autograder.grading.verify import setup_imports


@dataclass(frozen=True)
class GradedTests:
    """grade_id -> the master's test-cell source; ``imports``: the master's setup imports."""

    sources: dict[str, str] = field(default_factory=dict)
    imports: str = ""

    def source(self, grade_id: str) -> str | None:
        return self.sources.get(grade_id)


def graded_tests(config, resources: dict) -> GradedTests:
    """The master's test cells for the notebook in ``resources`` (nbgrader's db_url,
    assignment and notebook); a unit test may put a ``GradedTests`` in
    ``resources["autograder"]["graded_tests"]`` instead."""
    given = resources.get("autograder", {}).get("graded_tests")
    if isinstance(given, GradedTests):
        return given
    if "db_url" not in resources.get("nbgrader", {}):
        return GradedTests()
    cells = kept_cells(resources)
    sources = {name: cell["source"] for name, cell in cells.items()
               if cell["nbgrader"].get("grade") and not cell["nbgrader"].get("solution")
               and cell["cell_type"] == "code"}
    imports = setup_imports(master_code(config, resources)
                            or [cell["source"] for cell in cells.values() if cell["locked"]])
    return GradedTests(sources, imports)


def master_code(config, resources: dict) -> list[str]:
    """The source of every code cell of the master notebook that is not an answer (its setup
    imports live there, locked or not); [] when the master file is not at hand."""
    master = master_notebook(config, resources)
    return [cell.source for cell in master.cells
            if cell.cell_type == "code" and not utils.is_solution(cell)] if master else []


def is_test_cell(cell) -> bool:
    """A graded code cell that is not an answer: an autograder test."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
