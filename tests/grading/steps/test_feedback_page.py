"""The feedback page is built from an allow-list: what the student's notebook carried (widget
state, metadata, attachments) and any name it chose never becomes live HTML."""

from __future__ import annotations

from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.exports.feedback import _summary_cell
from autograder.exports.feedback_steps import ShowVerdictsOnly
from autograder.gradebook.record import NotebookRecord, SubmissionRecord
from autograder.grading.outcome import NOT_A_NOTEBOOK, Outcome

HOSTILE = "derivatives.<img src=x onerror=alert(1)>"


def test_a_hostile_notebook_name_is_shown_as_text_in_the_summary():
    row = SubmissionRecord("ada<b>", "01-derivatives", 0.0, 14.0, {HOSTILE: NotebookRecord(
        0.0, 14.0, Outcome(NOT_A_NOTEBOOK, "file <script>alert(2)</script>.ipynb"))})
    html, _ = HTMLExporter().from_notebook_node(new_notebook(cells=[_summary_cell(row, HOSTILE)]))
    assert "<img src=x" not in html and "<script>alert(2)" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as written


def test_widget_state_and_foreign_metadata_never_reach_the_page():
    nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"secret": "hidden test source"}),
                             new_markdown_cell("text")])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"model": {"state": {"value": "hidden test source"}}}}}
    nb.metadata["anything"] = "hidden test source"
    nb.cells[1]["attachments"] = {"a.png": {"image/png": "aGlkZGVu"}}
    nb, _ = ShowVerdictsOnly().preprocess(nb, {})
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "hidden test source" not in html and "widget-state" not in html
    assert "aGlkZGVu" not in html
