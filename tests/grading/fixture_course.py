"""A tiny course for grading tests: one assignment, one notebook, two exercises, 4 points.

`square` (solution cell) has a visible test (1 point) and a hidden test (2 points); `cube` has
a hidden test (1 point). Submissions are made from the release notebook by filling the
solution cells, so they look exactly like what students hand in.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "01-derivatives"
NOTEBOOK = "square"
FULL_MARKS = 4.0

SQUARE = "def square(x):\n    return x * x\n"
CUBE = "def cube(x):\n    return x ** 3\n"


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def master_notebook():
    cells = [
        new_markdown_cell("# Squares and cubes\nImplement `square` and `cube`.",
                          metadata=_meta("intro", locked=True)),
        new_code_cell("import numpy as np\n\ndef square(x):\n    ### BEGIN SOLUTION\n"
                      "    return np.asarray(x, dtype=float) ** 2\n    ### END SOLUTION",
                      metadata=_meta("square", solution=True)),
        new_code_cell("import numpy as np\nfrom coursekit.checks import check_values\n\n"
                      "check_values(square, np.square, [(3.0,)], 'square')\n"
                      "print('visible test passed')",
                      metadata=_meta("test_square", grade=True, locked=True, points=1)),
        new_code_cell("import numpy as np\nfrom coursekit.checks import check_values\n"
                      "### BEGIN HIDDEN TESTS\n"
                      "check_values(square, np.square, [(-1.5,), (0.25,), (2.0,)], 'square')\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test_square_hidden", grade=True, locked=True, points=2)),
        new_code_cell("def cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n"
                      "    ### END SOLUTION", metadata=_meta("cube", solution=True)),
        new_code_cell("import numpy as np\nfrom coursekit.checks import check_values\n"
                      "### BEGIN HIDDEN TESTS\n"
                      "check_values(cube, lambda x: x ** 3, [(-2.0,), (0.5,), (3.0,)], 'cube')\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test_cube_hidden", grade=True, locked=True, points=1)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


SECOND_ASSIGNMENT = "02-chain-rule"
SECOND_NOTEBOOK = "chain"


def second_master():
    """A one-exercise second assignment, so a notebook can land in the wrong one."""
    nb = new_notebook(cells=[
        new_code_cell("def twice(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                      "    ### END SOLUTION", metadata=_meta("twice", solution=True)),
        new_code_cell("from coursekit.checks import check_values\n"
                      "check_values(twice, lambda x: 2 * x, [(2.0,)], 'twice')",
                      metadata=_meta("test_twice", grade=True, locked=True, points=1)),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def make_course(root: Path) -> Path:
    """Write the masters under `root/solutions/` and release them into `root/course/`."""
    from autograder.authoring.release import release

    for assignment, notebook, master in ((ASSIGNMENT, NOTEBOOK, master_notebook()),
                                         (SECOND_ASSIGNMENT, SECOND_NOTEBOOK, second_master())):
        folder = root / "solutions" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(master, folder / f"{notebook}.ipynb")
    (root / "work").mkdir(exist_ok=True)
    release([ASSIGNMENT, SECOND_ASSIGNMENT], root=root)
    return root


def release_notebook(root: Path):
    return nbformat.read(root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def fill(root: Path, square: str | None = SQUARE, cube: str | None = CUBE, *,
         extra_cells: list[tuple[int, str]] = ()):
    """A submission: the release with its solution cells filled (None leaves the stub)."""
    nb = copy.deepcopy(release_notebook(root))
    answers = {"square": square, "cube": cube}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers.get(grade_id) is not None:
            cell.source = answers[grade_id]
    for position, source in sorted(extra_cells, reverse=True):
        nb.cells.insert(position, new_code_cell(source))
    return nb


def write_submission(folder: Path, student: str, nb_or_text) -> Path:
    """Put one student's notebook in nbgrader's layout under `folder`."""
    target = folder / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_text, (str, bytes)):
        mode = "wb" if isinstance(nb_or_text, bytes) else "w"
        with open(target, mode) as out:
            out.write(nb_or_text)
    else:
        target.write_text(json.dumps(nb_or_text, indent=1))
    return target
