"""Feedback: one HTML page per student per notebook, with nothing derived from hidden tests.

Built from the autograded notebooks with nbconvert's HTML exporter. The grading kernel received
the hidden tests' source, so nothing it produced is shown: every output of the student's own
cells is removed (the student has them in their own notebook), nbgrader's ClearHiddenTests
removes the hidden tests' source, and each test cell shows only its points and the verifier's
fixed-text verdict (`autograder.grading.verify.PUBLIC`) with what the visible part printed.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from autograder.course import load_config
from autograder.gradebook.record import SubmissionRecord, ledger_rows
from autograder.grading.inert_html import inert_html
from autograder.grading.steps.verify_grade_cells import VERDICT_KEY
from autograder.grading.verify import PASSED

HIDDEN_MARK = "BEGIN HIDDEN TESTS"


class ShowVerdictsOnly(NbGraderPreprocessor):
    """Outputs of the student's cells removed; each test cell shows its points and verdict."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        verdict = cell.metadata.get(VERDICT_KEY)
        if utils.is_grade(cell) and not utils.is_solution(cell) and verdict:
            score, max_score = utils.determine_grade(cell)
            passed = verdict["outcome"] == PASSED
            text = (f"{score or 0:g} / {max_score:g} points — "
                    + (passed_output(cell) or "passed" if passed else verdict["public"]))
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


def passed_output(cell) -> str:
    """What a passing test cell's visible part printed (the replay's own ✓ lines)."""
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream").strip()


def _summary_cell(row: SubmissionRecord, notebook: str):
    nb_row = row.notebooks[notebook]
    lines = [f"# Feedback: {row.student} — {row.assignment}/{notebook}",
             f"**Score (autograded): {nb_row.score:g} / {nb_row.max_score:g}**"]
    if not nb_row.outcome.graded:
        lines.append(f"\n**What went wrong:** {nb_row.outcome}")
    lines.append("\nEach test cell shows its points and its verdict; hidden tests are shown by "
                 "their result only, and your cells' outputs are left out (you have them in "
                 "your own notebook). Written answers are graded by hand and are not included "
                 "in the score above.")
    return new_markdown_cell("\n".join(lines))


def feedback_all(root: Path, work: Path, target: Path | None = None) -> list[Path]:
    """Write `<target>/<student>/<assignment>/<notebook>.html` for every graded notebook."""
    config = load_config(root, work)
    target = target or work / "feedback"
    exporter = HTMLExporter(config=config)
    steps = [ShowVerdictsOnly(config=config), ClearHiddenTestsInTestCells(config=config),
             inert_html()]  # the student's markdown, sanitised
    written = []
    for row in ledger_rows(config.CourseDirectory.db_url):
        for notebook in sorted(row.notebooks):
            source = work / "autograded" / row.student / row.assignment / f"{notebook}.ipynb"
            try:  # one notebook's page failing must not stop the class's feedback
                if source.exists():
                    nb = nbformat.read(source, as_version=4)
                else:
                    nb = nbformat.v4.new_notebook()  # nothing ran: the summary says why
                resources: dict = {}
                for step in steps:
                    nb, resources = step.preprocess(nb, resources)
                nb.cells.insert(0, _summary_cell(row, notebook))
                html, _ = exporter.from_notebook_node(nb)
            except Exception as exc:
                note = new_markdown_cell(f"The detailed page could not be built "
                                         f"({type(exc).__name__}); ask your instructor.")
                nb = nbformat.v4.new_notebook(cells=[_summary_cell(row, notebook), note])
                html, _ = exporter.from_notebook_node(nb)
            out = target / row.student / row.assignment / f"{notebook}.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(html, encoding="utf-8")
            written.append(out)
    return written
