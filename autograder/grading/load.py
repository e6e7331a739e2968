"""Load a submitted file as a notebook, or say in one named error why it is not one."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from autograder.grading.outcome import INVALID_JSON, NOT_A_NOTEBOOK, Outcome


def load_notebook(path: Path, student: str,
                  assignment: str) -> tuple[nbformat.NotebookNode | None, Outcome | None]:
    """(notebook, None) or (None, the named error) for a submitted file."""
    where = f"{student}/{assignment}/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        return None, Outcome(NOT_A_NOTEBOOK,
                             f"{where} is not a text file ({exc.__class__.__name__})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, Outcome(INVALID_JSON, f"{where} line {exc.lineno} column {exc.colno}: "
                             f"{exc.msg}; open it in JupyterLab, save it again and resubmit")
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        return None, Outcome(NOT_A_NOTEBOOK, f"{where} is JSON but has no notebook cells")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        # at most 400 characters in all, as "not a notebook: <detail>"
        detail = f"{where} fails the notebook format ({exc})"[:400 - len(f"{NOT_A_NOTEBOOK}: ")]
        return None, Outcome(NOT_A_NOTEBOOK, detail)
    return nb, None
