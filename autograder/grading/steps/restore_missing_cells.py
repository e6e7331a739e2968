"""Sanitize: cells of the master a submission lacks are put back, where the master has them.

A submission made from an older release lacks the exercises added since (their answer cell
and their test cell both); a student may also have deleted a locked cell. nbgrader's own
OverwriteCells can put back a missing test cell only after a cell the submission still has, so
a new exercise made it fail the whole notebook. This step puts every missing cell back first,
as the current release has it (answer cells as stubs, so they score 0), after the nearest
earlier master cell the submission has, in the master's order. The ids it put back are listed
in `resources["autograder"]["restored"]` (the answer cells among them in `restored_answers`);
the grade table and feedback say so.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.state import state

NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


class RestoreMissingCells(NbGraderPreprocessor):
    """Put back every master cell (answer, test, task or locked cell) a submission lacks."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        order = master_order(self.config, info["assignment"], info["notebook"])
        stored = stored_cells(info["db_url"], info["assignment"], info["notebook"])
        if not order:
            order = list(stored)  # no master file at hand: the gradebook's order
        present = {_grade_id(cell): i for i, cell in enumerate(nb.cells) if _grade_id(cell)}
        missing = [g for g in order if g in stored and g not in present]
        if not missing:
            return nb, resources
        cells = list(nb.cells)
        for grade_id in missing:
            before = order[:order.index(grade_id)]
            anchor = next((g for g in reversed(before) if g in present), None)
            position = 0 if anchor is None else present[anchor] + 1
            cells.insert(position, _cell(grade_id, stored[grade_id]))
            present = {_grade_id(cell): i for i, cell in enumerate(cells) if _grade_id(cell)}
        nb.cells = cells
        state(resources)["restored"] = missing
        state(resources)["restored_answers"] = [
            g for g in missing if stored[g]["nbgrader"]["solution"]]
        return nb, resources


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _cell(grade_id: str, stored: dict):
    cell = NEW_CELL.get(stored["cell_type"], new_code_cell)(stored["source"])
    cell.metadata["nbgrader"] = dict(stored["nbgrader"], grade_id=grade_id)
    return cell


def master_order(config, assignment: str, notebook: str) -> list[str]:
    """grade_ids of the master notebook's nbgrader cells, in its order ([] without the file)."""
    from nbgrader.coursedir import CourseDirectory

    course = CourseDirectory(config=config)
    path = Path(course.format_path(course.source_directory, ".", assignment)) / f"{notebook}.ipynb"
    if not path.is_file():
        return []
    master = nbformat.read(path, as_version=4)
    return [g for g in (_grade_id(cell) for cell in master.cells) if g]


def stored_cells(db_url: str, assignment: str, notebook: str) -> dict[str, dict]:
    """grade_id -> the cell as the release has it (type, source, nbgrader metadata), for each
    cell nbgrader keeps of the master, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        grade = {c.name: c.max_score for c in nb.grade_cells}
        task = {c.name: c.max_score for c in nb.task_cells}
        solution = {c.name for c in nb.solution_cells}
        out = {}
        for cell in nb.source_cells:
            meta = {"grade": cell.name in grade, "solution": cell.name in solution,
                    "locked": bool(cell.locked), "schema_version": 3}
            if cell.name in task:
                meta.update(task=True, points=task[cell.name])
            if cell.name in grade:
                meta["points"] = grade[cell.name]
            if cell.checksum:
                meta["checksum"] = cell.checksum
            out[cell.name] = {"cell_type": cell.cell_type, "source": cell.source,
                              "nbgrader": meta}
        return out
