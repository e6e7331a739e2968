"""Score: a test cell that never ran scores 0."""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.state import error_output, state


class ZeroUnrunTests(NbGraderPreprocessor):
    """A test cell that never ran (timeout, dead kernel) scores 0, not full marks."""

    def preprocess_cell(self, cell, resources, index):
        unrun = cell.get("execution_count") is None
        if utils.is_grade(cell) and cell.cell_type == "code" and unrun:
            reason = state(resources).get("failure") or "not run"
            cell.outputs.insert(0, error_output(
                "NotRun", f"this test did not run ({reason}); it scores 0"))
        return cell, resources
