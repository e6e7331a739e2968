"""Student HTML made inert for the instructor's browser.

Everything a kernel produced is the student's, and an instructor opens it: the autograded
notebook (in formgrader or JupyterLab) and the feedback pages. Before either is written,
nbconvert's `SanitizeHTML` (bleach) runs over it: `text/html` and `text/markdown` outputs and
markdown and raw cells are cleaned (no `<script>`, no event-handler attributes, no
`javascript:` URLs: a disallowed tag is escaped into visible text), and every output type that
could run code (`application/javascript`, SVG, widgets, anything not known to be inert) is
dropped.
"""

from __future__ import annotations

from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat.notebooknode import NotebookNode

SAFE_OUTPUT_KEYS = {"metadata", "text/plain", "text/latex", "application/json", "image/png",
                    "image/jpeg"}


def inert_html() -> SanitizeHTML:
    return SanitizeHTML(safe_output_keys=SAFE_OUTPUT_KEYS)


def make_inert(nb: NotebookNode) -> NotebookNode:
    """`nb` with every student output and markdown cell sanitised (in place, and returned)."""
    step = inert_html()
    nb, _ = step.preprocess(nb, {})
    return nb
