"""Sanitize, last: which teaching-only cells of the master SandboxedExecute skips.

The decision is `autograder.grading.teaching_cells.cells_to_skip`, from the master's tags
only, on the sanitised submission (its locked cells restored by OverwriteCells just before).
This step stores the submission's cell indices to skip in `resources["autograder"]
["skip_cells"]` (SandboxedExecute leaves those cells unrun) and, for the instructor, which
teaching cells were skipped and why the others ran in `["teaching_cells"]`.
`c.SkipTeachingCells.enabled = False` runs every cell.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.master_source import master_notebook
from autograder.grading.state import state
from autograder.grading.teaching_cells import cells_to_skip


class SkipTeachingCells(NbGraderPreprocessor):
    """Mark the teaching-only cells no later cell and no test needs, for SandboxedExecute."""

    def preprocess(self, nb, resources):
        info = state(resources)
        master = master_notebook(self.config, resources)
        if master is None:  # no master file at hand (a gradebook-only course): run everything
            info["skip_cells"] = set()
            return nb, resources
        plan = cells_to_skip(master, nb)
        info["skip_cells"] = set(plan.skip)
        info["teaching_cells"] = {"skipped": plan.skipped_ids, "run": dict(plan.run_anyway)}
        return nb, resources
