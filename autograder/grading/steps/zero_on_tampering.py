"""Score: tampering zeroes every test of the notebook."""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.state import error_output, state


class ZeroOnTampering(NbGraderPreprocessor):
    """Tampering with numpy, coursekit or IPython zeroes every test of the notebook."""

    def preprocess_cell(self, cell, resources, index):
        tampering = state(resources).get("tampering")
        if tampering and utils.is_grade(cell) and cell.cell_type == "code":
            cell.outputs.insert(0, error_output("TamperingDetected", tampering))
        return cell, resources
