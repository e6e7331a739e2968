"""Score: a test cell's error and stderr outputs go first, where nbgrader looks."""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor


class ErrorsFirst(NbGraderPreprocessor):
    """Put error and stderr outputs of a test cell first.

    nbgrader scores a test cell by its first telling output; a submission could otherwise put a
    partial-credit result (from a background thread) in front of the test's own traceback.
    """

    def preprocess_cell(self, cell, resources, index):
        if utils.is_grade(cell) and cell.cell_type == "code":
            bad = [o for o in cell.outputs if _is_failure(o)]
            if bad:
                cell.outputs = bad + [o for o in cell.outputs if not _is_failure(o)]
        return cell, resources


def _is_failure(output: NotebookNode) -> bool:
    return output.output_type == "error" or (
        output.output_type == "stream" and output.get("name") == "stderr")
