"""Feedback: one HTML page per student per notebook, with nothing derived from hidden tests.

Built from the autograded notebooks with nbconvert's HTML exporter. The grading kernel received
the hidden tests' source, so nothing it produced is shown: every output of the student's own
cells is removed (the student has them in their own notebook), nbgrader's ClearHiddenTests
removes the hidden tests' source, and each test cell shows only its points and the verifier's
fixed-text verdict (`autograder.grading.verify.PUBLIC`) with what the visible part printed.
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import GetGrades

from autograder.course import load_config
from autograder.exports.feedback_steps import (  # noqa: F401
    ClearHiddenTestsInTestCells,
    ShowGradebookNotes,
    ShowVerdictsOnly,
    passed_output,
)
from autograder.gradebook.record import SubmissionRecord, ledger_rows
from autograder.gradebook.view import gradebook_entries
from autograder.grading.inert_html import inert_html

HIDDEN_MARK = "BEGIN HIDDEN TESTS"
STAND_IN_KEY = "autograder_stand_in"  # = autograder.gradebook.batch.STAND_IN_KEY


def _plain(text: object) -> str:
    """``text`` for the summary's markdown: HTML escaped and markdown's own signs backslashed,
    so a student id, a file name or an outcome's detail is shown as written, never rendered."""
    escaped = html.escape(str(text), quote=False)
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|~$" else ch for ch in escaped)


def _summary_cell(row: SubmissionRecord, notebook: str, entry=None):
    nb_row = row.notebooks[notebook]
    lines = [f"# Feedback: {_plain(row.student)} — {_plain(row.assignment)}/{_plain(notebook)}",
             f"**Score (autograded): {nb_row.score:g} / {nb_row.max_score:g}**"]
    if entry is not None:
        cells = [c for c in entry.cells if c.notebook == notebook]
        manual = sum(c.manual_score for c in cells if c.manual_score is not None)
        pending = [c for c in cells if c.pending]
        total = sum(c.score for c in cells)
        lines.append(f"\n**Score with grading by hand: {total:g} / {nb_row.max_score:g}**"
                     + (f" ({manual:g} points given by hand)" if manual else ""))
        if pending:
            lines.append(f"\n**Pending:** {len(pending)} written answer(s), "
                         f"{sum(c.max_score for c in pending):g} points, not graded yet.")
        if entry.late_text():
            lines.append(f"\n**Submitted {entry.late_text()}** (assignment total after the "
                         f"penalty: {entry.final:g} / {entry.max_score:g}).")
    if not nb_row.outcome.graded:
        lines.append(f"\n**What went wrong:** {_plain(nb_row.outcome)}")
    lines.append("\nEach test cell shows its points and its verdict; hidden tests are shown by "
                 "their result only, and your cells' outputs are left out (you have them in "
                 "your own notebook). Written answers are graded by hand; each shows its "
                 "points once graded.")
    return new_markdown_cell("\n".join(lines))


def feedback_all(root: Path, work: Path, target: Path | None = None) -> list[Path]:
    """Write `<target>/<student>/<assignment>/<notebook>.html` for every graded notebook."""
    config = load_config(root, work)
    db_url = config.CourseDirectory.db_url
    target = target or work / "feedback"
    exporter = HTMLExporter(config=config)
    steps = [GetGrades(config=config), ShowVerdictsOnly(config=config),
             ShowGradebookNotes(config=config), ClearHiddenTestsInTestCells(config=config),
             inert_html()]  # the student's markdown, sanitised
    entries = gradebook_entries(db_url)
    written = []
    for row in ledger_rows(db_url):
        for notebook in sorted(row.notebooks):
            source = work / "autograded" / row.student / row.assignment / f"{notebook}.ipynb"
            try:  # one notebook's page failing must not stop the class's feedback
                nb = nbformat.read(source, as_version=4) if source.exists() else None
                ran = nb is not None and STAND_IN_KEY not in nb.metadata
                if not ran:
                    nb = nbformat.v4.new_notebook()  # nothing ran: the summary says why
                resources: dict = {"nbgrader": {"notebook": notebook,
                                                "assignment": row.assignment,
                                                "student": row.student, "db_url": db_url}}
                for step in steps if ran else steps[1:]:
                    nb, resources = step.preprocess(nb, resources)
                nb.cells.insert(0, _summary_cell(row, notebook, entries.get(row.key)))
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
