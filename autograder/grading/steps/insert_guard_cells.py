"""Sanitize: the in-kernel tamper guard's cells are inserted (see `autograder.guard`)."""

from __future__ import annotations

import secrets

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.state import state
from autograder.guard import (
    GUARD_KEY,
    bound_names,
    check_source,
    install_source,
    read_names,
    record_source,
)


class InsertGuardCells(NbGraderPreprocessor):
    """Insert the tamper guard: install first, a check before each grade cell and at the end,
    and a record after each locked cell (its source is the master's, restored by OverwriteCells)
    of the names it binds, so a grade cell's check can tell that a name it reads was rebound."""

    def preprocess(self, nb, resources):
        nonce = state(resources).setdefault("nonce", secrets.token_hex(8))
        cells = [_guard_cell(install_source(nonce), "install")]
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                cells.append(cell)
                continue
            if utils.is_grade(cell):
                where = meta["grade_id"]
                cells.append(_guard_cell(check_source(where, read_names(cell.source)), "check"))
            cells.append(cell)
            if meta.get("locked") and not meta.get("solution"):
                names = bound_names(cell.source)
                if names:
                    where = meta.get("grade_id", "a locked cell")
                    cells.append(_guard_cell(record_source(where, names), "record"))
        cells.append(_guard_cell(check_source("the end of the notebook"), "check"))
        nb.cells = cells
        return nb, resources


def _guard_cell(source: str, role: str) -> NotebookNode:
    cell = new_code_cell(source)
    cell.metadata[GUARD_KEY] = role
    return cell
