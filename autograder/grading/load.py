"""Load a submitted file as a notebook, or say in one named error why it is not one.

Checked before anything runs, each with its own named error: the file's size
(`Limits.notebook_mb`), that it is UTF-8 text and JSON, how deeply its JSON nests, the number of
cells (`Limits.notebook_cells`), and the notebook format. Old formats (nbformat 3) are upgraded
to 4, as Jupyter does when it opens them; lone surrogates (text no file system or database can
store) are replaced with U+FFFD.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from autograder.grading.outcome import INVALID_JSON, NOT_A_NOTEBOOK, TOO_LARGE, Outcome

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_CELLS = 2_000
MAX_DEPTH = 64  # a notebook nests about 8 deep (cells, outputs, data, metadata)


def _depth(value) -> int:
    """How deeply `value` (parsed JSON) nests, walked without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return deepest


def _fix_surrogates(value):
    """`value` with lone surrogates in any string replaced (iteratively: depth is bounded)."""
    def fix(text: str) -> str:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") \
            if any("\ud800" <= c <= "\udfff" for c in text) else text

    if isinstance(value, str):
        return fix(value)
    stack = [value]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in list(pairs):
            if isinstance(child, str):
                item[key] = fix(child)
            elif isinstance(child, (dict, list)):
                stack.append(child)
            if isinstance(item, dict) and isinstance(key, str) and key != fix(key):
                item[fix(key)] = item.pop(key)
    return value


def load_notebook(path: Path, student: str, assignment: str, max_bytes: int = MAX_NOTEBOOK_BYTES,
                  max_cells: int = MAX_CELLS,
                  ) -> tuple[nbformat.NotebookNode | None, Outcome | None]:
    """(notebook, None) or (None, the named error) for a submitted file."""
    where = f"{student}/{assignment}/{path.name}"
    try:
        size = os.lstat(path).st_size
    except OSError as exc:
        return None, Outcome(NOT_A_NOTEBOOK, f"{where} cannot be read ({type(exc).__name__})")
    if size > max_bytes:
        return None, Outcome(TOO_LARGE, f"{where} is {size / 2**20:.1f} MB, over the "
                             f"{max_bytes / 2**20:g} MB limit; clear the outputs "
                             "(Kernel > Restart Kernel and Clear Outputs), save and resubmit")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        return None, Outcome(NOT_A_NOTEBOOK,
                             f"{where} is not a text file ({exc.__class__.__name__})")
    too_deep = Outcome(INVALID_JSON, f"{where} nests JSON more than {MAX_DEPTH} levels deep, "
                       "which no notebook does; open it in JupyterLab, save it again and "
                       "resubmit")
    try:
        data = json.loads(text)
    except RecursionError:
        return None, too_deep
    except json.JSONDecodeError as exc:
        return None, Outcome(INVALID_JSON, f"{where} line {exc.lineno} column {exc.colno}: "
                             f"{exc.msg}; open it in JupyterLab, save it again and resubmit")
    if _depth(data) > MAX_DEPTH:
        return None, too_deep
    version = data.get("nbformat") if isinstance(data, dict) else None
    if not isinstance(data, dict) or version is None or (
            "cells" not in data and "worksheets" not in data):
        return None, Outcome(NOT_A_NOTEBOOK, f"{where} is JSON but has no notebook cells")
    cells = data.get("cells")
    if cells is None:  # nbformat 3: cells in worksheets
        worksheets = data.get("worksheets")
        cells = [c for w in worksheets if isinstance(w, dict) for c in (w.get("cells") or [])] \
            if isinstance(worksheets, list) else []
    if isinstance(cells, list) and len(cells) > max_cells:
        return None, Outcome(TOO_LARGE, f"{where} has {len(cells)} cells, over the limit of "
                             f"{max_cells}; delete the cells you added, save and resubmit")
    data = _fix_surrogates(data)
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.writes(nb)  # what the grader will write back must be writable
    except Exception as exc:
        # at most 400 characters in all, as "not a notebook: <detail>"
        detail = (f"{where} fails the notebook format ({type(exc).__name__}: "
                  f"{exc})")[:400 - len(f"{NOT_A_NOTEBOOK}: ")]
        return None, Outcome(NOT_A_NOTEBOOK, detail)
    return nb, None
