"""The feedback pages' preprocessor, shared by the kit's pages and nbgrader's own.

`autograder feedback` runs it, and the kit's configuration puts it in
`GenerateFeedback.preprocessors`, so `nbgrader generate_feedback` and formgrader's "Generate
Feedback" button build pages with the same rule: the grading kernel received the hidden tests'
source, so nothing it produced is shown. Every output of a student's cell is removed, and each
test cell shows only its points and the verifier's fixed-text verdict
(`cell.metadata["autograder"]`, written by `VerifyGradeCells`). nbgrader's `ClearHiddenTests`
then removes the hidden tests' source. Imports stay light: nbgrader loads this from its config.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

VERDICT_KEY = "autograder"  # = autograder.grading.steps.verify_grade_cells.VERDICT_KEY
PASSED = "passed"  # = autograder.grading.verify.PASSED


class ShowVerdictsOnly(NbGraderPreprocessor):
    """Outputs of the student's cells removed; each test cell shows its points and verdict.

    A test cell's points are the gradebook's when nbgrader's `GetGrades` ran first (a manual
    override counts), else what the autograded notebook holds. A test cell with no verdict (a
    notebook not graded by the kit) shows no output at all.
    """

    #: The notebook metadata a feedback page keeps (an allow-list): never the kernel's widget
    #: state or anything else the student's notebook carried.
    KEPT_METADATA = ("kernelspec", "language_info")
    #: The cell metadata a feedback page keeps.
    KEPT_CELL_METADATA = ("nbgrader", VERDICT_KEY, "autograder_note")

    def preprocess(self, nb, resources):
        nb.metadata = {k: v for k, v in nb.metadata.items() if k in self.KEPT_METADATA}
        for cell in nb.cells:
            cell.metadata = {k: v for k, v in cell.metadata.items()
                             if k in self.KEPT_CELL_METADATA}
            cell.pop("attachments", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        verdict = cell.metadata.get(VERDICT_KEY)
        if isinstance(verdict, dict):  # the report's hint is the instructor's, not the student's
            verdict.pop("hint", None)
            verdict.pop("generic", None)
        if utils.is_grade(cell) and not utils.is_solution(cell) and verdict:
            score, max_score = cell_points(cell)
            passed = verdict.get("outcome") == PASSED
            text = (f"{score or 0:g} / {max_score:g} points — "
                    + (passed_output(cell) or "passed" if passed else
                       str(verdict.get("public", "failed"))))
            cell.outputs = [new_output("stream", name="stdout" if passed else "stderr",
                                       text=text + "\n")]
        else:
            cell.outputs = []
        cell.execution_count = None
        return cell, resources


class ClearHiddenTestsInTestCells(ClearHiddenTests):
    """nbgrader's ClearHiddenTests on the masters' test cells only: a student's own cell that
    holds the text `BEGIN HIDDEN TESTS` (without its END) is theirs, not a hidden test, and
    must not make the page fail."""

    def preprocess_cell(self, cell, resources, index):
        if not (utils.is_grade(cell) and not utils.is_solution(cell)):
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


def cell_points(cell) -> tuple[float | None, float]:
    """(score, max score) of a grade cell: the gradebook's (GetGrades) when present."""
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("score") is not None:
        return float(meta["score"]), float(meta.get("points", 0) or 0)
    return utils.determine_grade(cell)


def passed_output(cell) -> str:
    """What a passing test cell's visible part printed (the replay's own ✓ lines)."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream").strip()


class ShowGradebookNotes(NbGraderPreprocessor):
    """For the kit's own pages (nbgrader's feedback template shows these itself): after each
    graded cell, its points as the gradebook has them (a manual score, or "pending" for a
    written answer nobody graded yet) and the grader's comment. Runs after `GetGrades`."""

    def preprocess(self, nb, resources):
        from nbformat.v4 import new_markdown_cell

        cells = []
        for cell in nb.cells:
            cells.append(cell)
            meta = cell.metadata.get("nbgrader", {})
            note = []
            if utils.is_grade(cell) and (utils.is_solution(cell) or cell.cell_type == "markdown"):
                if meta.get("score") is None:
                    note.append(f"**Graded by hand: pending** (out of {meta.get('points', 0):g} "
                                "points)")
                else:
                    note.append(f"**Graded by hand: {float(meta['score']):g} / "
                                f"{float(meta.get('points', 0)):g} points**")
            if meta.get("comment"):
                note.append(f"**Comment:** {meta['comment']}")
            if note:
                cells.append(new_markdown_cell("\n\n".join(note),
                                               metadata={"autograder_note": True}))
        nb.cells = cells
        return nb, resources
