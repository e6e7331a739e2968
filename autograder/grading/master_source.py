"""The masters as the grading steps read them, each read once per notebook graded.

Two sources: the master notebook file (`solutions/<assignment>/<notebook>.ipynb`: the order of
its cells, the code of its setup cells) and the cells nbgrader keeps of it in the gradebook
(the release's version: answer cells as stubs, test cells with their hidden part). Both are
kept in the notebook's `resources["autograder"]`, so the steps that need them
(RestoreMissingCells, VerifyGradeCells) share one read.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.grading.state import state


def master_notebook(config, resources: dict) -> NotebookNode | None:
    """The master notebook of the notebook being graded; None when the file is not at hand."""
    memo = state(resources)
    if "master_notebook" not in memo:
        from nbgrader.coursedir import CourseDirectory

        info = resources["nbgrader"]
        course = CourseDirectory(config=config)
        folder = course.format_path(course.source_directory, ".", info["assignment"])
        path = Path(folder) / f"{info['notebook']}.ipynb"
        memo["master_notebook"] = nbformat.read(path, as_version=4) if path.is_file() else None
    return memo["master_notebook"]


def kept_cells(resources: dict) -> dict[str, dict]:
    """grade_id -> the cell as the release has it (`cell_type`, `source`, `locked`, and the
    `nbgrader` metadata a notebook cell would carry), for each cell nbgrader keeps of the
    master, in the gradebook's order."""
    memo = state(resources)
    if "kept_cells" not in memo:
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            nb = gb.find_notebook(info["notebook"], info["assignment"])
            grade = {c.name: c.max_score for c in nb.grade_cells}
            task = {c.name: c.max_score for c in nb.task_cells}
            solution = {c.name for c in nb.solution_cells}
            cells = {}
            for cell in nb.source_cells:
                meta = {"grade": cell.name in grade, "solution": cell.name in solution,
                        "locked": bool(cell.locked), "schema_version": 3}
                if cell.name in task:
                    meta.update(task=True, points=task[cell.name])
                if cell.name in grade:
                    meta["points"] = grade[cell.name]
                if cell.checksum:
                    meta["checksum"] = cell.checksum
                cells[cell.name] = {"cell_type": cell.cell_type, "source": cell.source,
                                    "locked": bool(cell.locked), "nbgrader": meta}
        memo["kept_cells"] = cells
    return memo["kept_cells"]
