"""Feedback: one HTML page per student per notebook, hidden tests and their source removed.

Built from the autograded notebooks (grader cells already gone) with nbconvert's HTML exporter
and nbgrader's ClearHiddenTests; `HideHiddenTestTracebacks` runs first, because a failing hidden
test's traceback quotes the very lines ClearHiddenTests removes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from autograder.course import load_config
from autograder.gradebook.record import SubmissionRecord, ledger_rows

HIDDEN_MARK = "BEGIN HIDDEN TESTS"


class HideHiddenTestTracebacks(NbGraderPreprocessor):
    """In cells with hidden tests, keep only each error's name and message."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN_MARK in cell.source:
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue} (hidden test)"]
        return cell, resources


def _summary_cell(row: SubmissionRecord, notebook: str):
    nb_row = row.notebooks[notebook]
    lines = [f"# Feedback: {row.student} — {row.assignment}/{notebook}",
             f"**Score (autograded): {nb_row.score:g} / {nb_row.max_score:g}**"]
    if not nb_row.outcome.graded:
        lines.append(f"\n**What went wrong:** {nb_row.outcome}")
    lines.append("\nHidden tests are shown by their result only. Written answers are graded "
                 "by hand and are not included in the score above.")
    return new_markdown_cell("\n".join(lines))


def feedback_all(root: Path, work: Path, target: Path | None = None) -> list[Path]:
    """Write `<target>/<student>/<assignment>/<notebook>.html` for every graded notebook."""
    config = load_config(root, work)
    target = target or work / "feedback"
    exporter = HTMLExporter(config=config)
    steps = [HideHiddenTestTracebacks(config=config), ClearHiddenTests(config=config)]
    written = []
    for row in ledger_rows(config.CourseDirectory.db_url):
        for notebook in sorted(row.notebooks):
            source = work / "autograded" / row.student / row.assignment / f"{notebook}.ipynb"
            if source.exists():
                nb = nbformat.read(source, as_version=4)
            else:
                nb = nbformat.v4.new_notebook()  # nothing ran: the summary says why
            resources: dict = {}
            for step in steps:
                nb, resources = step.preprocess(nb, resources)
            nb.cells.insert(0, _summary_cell(row, notebook))
            html, _ = exporter.from_notebook_node(nb)
            out = target / row.student / row.assignment / f"{notebook}.html"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(html, encoding="utf-8")
            written.append(out)
    return written
