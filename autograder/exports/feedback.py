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
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import ClearHiddenTests

from autograder.course import load_config
from autograder.exports.feedback_steps import ShowVerdictsOnly, passed_output  # noqa: F401
from autograder.gradebook.record import SubmissionRecord, ledger_rows

HIDDEN_MARK = "BEGIN HIDDEN TESTS"


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
    steps = [ShowVerdictsOnly(config=config), ClearHiddenTests(config=config)]
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
