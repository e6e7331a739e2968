"""Sanitize: cells of the master a submission lacks are put back, where the master has them.

A submission made from an older release lacks the exercises added since (their answer cell
and their test cell both); a student may also have deleted a locked cell. nbgrader's own
OverwriteCells can put back a missing test cell only after a cell the submission still has, so
a new exercise made it fail the whole notebook. This step puts every missing cell back first,
as the current release has it (answer cells as stubs, so they score 0), after the nearest
earlier master cell the submission has, in the master's order. It says so in
`resources["autograder"]["warnings"]`, which the grade table, the ledger and feedback show.
"""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.master_source import kept_cells, master_notebook
from autograder.grading.state import state

NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


class RestoreMissingCells(NbGraderPreprocessor):
    """Put back every master cell (answer, test, task or locked cell) a submission lacks."""

    def preprocess(self, nb, resources):
        stored = kept_cells(resources)
        master = master_notebook(self.config, resources)
        order = ([g for g in map(_grade_id, master.cells) if g] if master is not None
                 else list(stored))  # no master file at hand: the gradebook's order
        present = {_grade_id(cell) for cell in nb.cells} - {None}
        missing = [g for g in order if g in stored and g not in present]
        if not missing:
            return nb, resources
        cells = list(nb.cells)
        for grade_id in missing:
            before = order[:order.index(grade_id)]
            anchor = next((g for g in reversed(before) if g in present), None)
            position = 0 if anchor is None else 1 + next(
                i for i, cell in enumerate(cells) if _grade_id(cell) == anchor)
            cells.insert(position, _cell(grade_id, stored[grade_id]))
            present.add(grade_id)
        nb.cells = cells
        answers = [g for g in missing if stored[g]["nbgrader"]["solution"]]
        state(resources).setdefault("warnings", []).append(restored_warning(missing, answers))
        return nb, resources


def restored_warning(grade_ids: list[str], answers: list[str]) -> str:
    """What the student and the instructor are told about cells put back from the release."""
    text = (f"this notebook lacked {len(grade_ids)} cell(s) of the current release, put back "
            f"as released: {', '.join(grade_ids)}.")
    if answers:
        return text + (f" The answer cells among them ({', '.join(answers)}) are stubs, so "
                       "their tests score 0: exercises added after the release this notebook "
                       "was made from (fetch the current release to do them), or answers "
                       "deleted.")
    return text + " Deleted tests and locked cells run as the release has them."


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _cell(grade_id: str, stored: dict):
    cell = NEW_CELL.get(stored["cell_type"], new_code_cell)(stored["source"])
    cell.metadata["nbgrader"] = dict(stored["nbgrader"], grade_id=grade_id)
    return cell
