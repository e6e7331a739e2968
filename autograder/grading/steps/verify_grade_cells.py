"""Score: every test cell decided from its records, in this process (no student code runs here).

The kernel only recorded what the student's code returned (coursekit's record mode); the
verdicts come from `autograder.grading.verify`, which replays the master's test cells.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.master_source import kept_cells, master_notebook
from autograder.grading.state import error_output, state
from autograder.grading.verify import setup_imports, verify_cell

#: Cell metadata key of a test cell's verdict (written here, read by the feedback pages).
VERDICT_KEY = "autograder"


class VerifyGradeCells(NbGraderPreprocessor):
    """Decide every test cell from its records, in this process (which runs no student code).

    Each autograder test cell's outputs are replaced by the verdict: what the replay printed
    when it passed, one error output with the check's message when it failed, so nbgrader's
    own scoring (an error output scores 0) records the verified result. The verdict's
    student-facing text goes into the cell's metadata (`autograder`) for the feedback pages;
    that key is removed from every other cell, so a submission cannot plant one.
    """

    def preprocess(self, nb, resources):
        info = state(resources)
        nbgrader = resources.get("nbgrader", {})
        masters, imports = {}, ""
        if "db_url" in nbgrader:  # always, when grading; unit tests may use the cells alone
            masters = {name: (c["source"], c["locked"])
                       for name, c in kept_cells(resources).items()}
            imports = setup_imports(master_code(self.config, resources)
                                    or [source for source, locked in masters.values() if locked])
        verdicts = {}
        for cell in nb.cells:
            cell.metadata.pop(VERDICT_KEY, None)
            if not (cell.cell_type == "code" and utils.is_grade(cell)
                    and not utils.is_solution(cell)):
                continue
            grade_id = cell.metadata.nbgrader["grade_id"]
            source = masters.get(grade_id, (cell.source, True))[0]
            verdict = verify_cell(source, list(cell.outputs), imports)
            verdicts[grade_id] = verdict
            if verdict.passed:
                cell.outputs = [new_output("stream", name="stdout", text=verdict.output)
                                ] if verdict.output else []
            else:
                cell.outputs = [error_output(verdict.ename, verdict.message)]
            cell.metadata[VERDICT_KEY] = {"outcome": verdict.outcome, "public": verdict.public}
            if verdict.hint:  # the instructor's report counts them; feedback never shows it
                cell.metadata[VERDICT_KEY]["hint"] = verdict.hint
        info["verdicts"] = verdicts
        return nb, resources


def master_code(config, resources: dict) -> list[str]:
    """The source of every code cell of the master notebook that is not an answer (its setup
    imports live there, locked or not); [] when the master file is not at hand."""
    master = master_notebook(config, resources)
    return [cell.source for cell in master.cells
            if cell.cell_type == "code" and not utils.is_solution(cell)] if master else []
