"""Load a submitted file as a notebook, or say in one named error why it is not one."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from autograder.grading.outcome import INVALID_JSON, NOT_A_NOTEBOOK


def load_notebook(path: Path, student: str, assignment: str):
    """(notebook, None) or (None, named error) for a submitted file."""
    where = f"{student}/{assignment}/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        return None, f"{NOT_A_NOTEBOOK}: {where} is not a text file ({exc.__class__.__name__})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, (f"{INVALID_JSON}: {where} line {exc.lineno} column {exc.colno}: {exc.msg}"
                      "; open it in JupyterLab, save it again and resubmit")
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        return None, f"{NOT_A_NOTEBOOK}: {where} is JSON but has no notebook cells"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        return None, f"{NOT_A_NOTEBOOK}: {where} fails the notebook format ({exc})"[:400]
    return nb, None
