"""Score: every test cell's verdict written into the notebook (no student code runs here).

The verdicts were decided while the notebook ran (`SandboxedExecute` runs each test cell in the
grader and asks the kernel only for data, see `autograder.grading.verify`); this step writes
them where nbgrader's scoring and the feedback pages read them.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.graded_tests import is_test_cell
from autograder.grading.state import error_output, state
from autograder.grading.verify import FAILED_VISIBLE, PUBLIC, Verdict

#: Cell metadata key of a test cell's verdict (written here, read by the feedback pages).
VERDICT_KEY = "autograder"


class VerifyGradeCells(NbGraderPreprocessor):
    """Write each test cell's verdict into the cell.

    A passed test keeps what the visible part printed; a failed one gets one error output with
    the check's message, so nbgrader's own scoring (an error output scores 0) records the
    verified result. A test cell the run never reached (the kernel died or the notebook ran out
    of time before it) fails with that reason. The verdict's student-facing text goes into the
    cell's metadata (`autograder`) for the feedback pages; that key is removed from every other
    cell, so a submission cannot plant one.
    """

    def preprocess(self, nb, resources):
        info = state(resources)
        verdicts = info.setdefault("verdicts", {})
        for cell in nb.cells:
            cell.metadata.pop(VERDICT_KEY, None)
            if not is_test_cell(cell):
                continue
            grade_id = cell.metadata.nbgrader["grade_id"]
            verdict = verdicts.get(grade_id)
            if verdict is None:
                verdict = verdicts[grade_id] = Verdict(
                    False, FAILED_VISIBLE, "the notebook stopped before this test ran (see "
                    "the outcome: a dead kernel, a timeout or the memory limit)",
                    PUBLIC[FAILED_VISIBLE], ename="NotRun")
            kept = [o for o in cell.outputs if o.get("output_type") == "error"]
            if verdict.passed:
                cell.outputs = [new_output("stream", name="stdout", text=verdict.output)
                                ] if verdict.output else []
            else:
                cell.outputs = [error_output(verdict.ename, verdict.message)] + kept[:1]
            cell.metadata[VERDICT_KEY] = {"outcome": verdict.outcome, "public": verdict.public}
            if verdict.hint:  # the instructor's report counts them; feedback never shows it
                cell.metadata[VERDICT_KEY]["hint"] = verdict.hint
            if verdict.generic:  # the report lists them; feedback never shows it either
                cell.metadata[VERDICT_KEY]["generic"] = list(verdict.generic)
        return nb, resources
