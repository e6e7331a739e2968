"""The gradebook follows the masters when cells are added or removed after submissions exist.

nbgrader's SaveCells refuses to add or remove cells of a notebook that has submissions, so an
exercise added after release would stop `grade` for the whole class. `follow_masters` makes the
gradebook's cells those of the master first, with nbgrader's own API and models: a new grade
cell gets an empty Grade in every submission, a new answer cell an empty Comment (as
`Gradebook.add_submission` would have made them); a cell the master dropped loses its grades
and comments. Manual grades and comments of every other cell are kept. SaveCells then finds
nothing to refuse and updates each cell as usual.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.api import Comment, Grade, Gradebook, MissingEntry


def cells_to_store(path: Path) -> dict[str, dict[str, dict]]:
    """kind -> grade_id -> what nbgrader would store, for one master notebook (as SaveCells
    sorts cells: grade, solution, task; and source for each of those and each locked cell)."""
    nb = nbformat.read(path, as_version=4)
    kinds: dict[str, dict[str, dict]] = {"grade": {}, "solution": {}, "task": {}, "source": {}}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id:
            continue
        if utils.is_grade(cell):
            kinds["grade"][grade_id] = {"max_score": float(meta.get("points", 0)),
                                        "cell_type": cell.cell_type}
        if utils.is_solution(cell):
            kinds["solution"][grade_id] = {}
        if utils.is_task(cell):
            kinds["task"][grade_id] = {"max_score": float(meta.get("points", 0)),
                                       "cell_type": cell.cell_type}
        if (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)
                or utils.is_task(cell)):
            kinds["source"][grade_id] = {"cell_type": cell.cell_type,
                                         "locked": utils.is_locked(cell), "source": cell.source}
    return kinds


def follow_masters(db_url: str, masters: Path, assignment: str) -> list[str]:
    """Add and remove gradebook cells of `assignment`'s notebooks that have submissions so that
    they match the master notebooks in `masters`. Returns one line per notebook changed."""
    changes = []
    with Gradebook(db_url) as gb:
        for path in sorted(Path(masters).glob("*.ipynb")):
            try:
                notebook = gb.find_notebook(path.stem, assignment)
            except MissingEntry:
                continue
            if not notebook.submissions:
                continue  # SaveCells rebuilds it from scratch
            line = _follow(gb, notebook, cells_to_store(path))
            if line:
                changes.append(f"{assignment}/{path.name}: {line}")
        gb.db.commit()
    return changes


def _follow(gb: Gradebook, notebook, want: dict[str, dict[str, dict]]) -> str:
    have = {"grade": {c.name: c for c in notebook.grade_cells},
            "solution": {c.name: c for c in notebook.solution_cells},
            "task": {c.name: c for c in notebook.task_cells},
            "source": {c.name: c for c in notebook.source_cells}}
    added = sorted({n for k in want for n in want[k] if n not in have[k]})
    removed = sorted({n for k in have for n in have[k] if n not in want[k]})
    if not added and not removed:
        return ""
    for kind in ("grade", "solution", "task", "source"):
        for name in set(have[kind]) - set(want[kind]):
            cell = have[kind][name]
            for row in list(getattr(cell, "grades", [])) + list(getattr(cell, "comments", [])):
                gb.db.delete(row)
            gb.db.delete(cell)
    gb.db.flush()
    models = {"grade": gb.add_grade_cell, "solution": gb.add_solution_cell,
              "task": gb.add_task_cell, "source": gb.add_source_cell}
    for kind in ("grade", "solution", "task", "source"):
        for name in sorted(set(want[kind]) - set(have[kind])):
            cell = models[kind](name, notebook.name, notebook.assignment.name, **want[kind][name])
            for submitted in notebook.submissions:  # what add_submission makes for a cell
                if kind in ("grade", "task"):
                    gb.db.add(Grade(cell_id=cell.id, notebook=submitted))
                if kind in ("solution", "task"):
                    gb.db.add(Comment(cell_id=cell.id, notebook=submitted))
    gb.db.flush()
    parts = []
    if added:
        parts.append("cells added after submissions: " + ", ".join(added))
    if removed:
        parts.append("cells removed: " + ", ".join(removed))
    return "; ".join(parts)
