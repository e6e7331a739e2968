"""Small in-memory notebooks for the grading steps' unit tests (nbformat.v4, no files)."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config


def nbgrader(cell, **meta):
    cell.metadata.nbgrader = {"schema_version": 3, "grade": False, "solution": False,
                              "locked": False, **meta}
    return cell


def answer_cell(source="def square(x):\n    return x * x", grade_id="square"):
    return nbgrader(new_code_cell(source), solution=True, grade_id=grade_id)


def grade_cell(source="assert square(3) == 9", grade_id="test_square", points=2, outputs=(),
         execution_count=1):
    cell = new_code_cell(source, execution_count=execution_count, outputs=list(outputs))
    return nbgrader(cell, grade=True, locked=True, grade_id=grade_id, points=points)


def setup_cell(source="import numpy as np\nfrom math import sqrt", grade_id="setup"):
    return nbgrader(new_code_cell(source), locked=True, grade_id=grade_id)


def notebook(*cells):
    return new_notebook(cells=list(cells) or [new_markdown_cell("# nothing")])


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def stderr(text):
    return new_output("stream", name="stderr", text=text)


def error(ename="AssertionError", evalue="wrong"):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def run(step, nb, resources=None, config=None, **traits):
    """Run one step as the pipeline does: `step(nb, resources)`, nbgrader's convention."""
    resources = {"autograder": {}} if resources is None else resources
    return step(config=config or Config(), **traits)(nb, resources)
