"""The kit's grading state that travels with a notebook, and the error outputs steps add.

Every step reads and writes `resources["autograder"]`, a dict that travels with the notebook:
`known_ids`, `executed` (cell index -> reply status), `failure` (named error or None),
`stopped`, `timings`, `verdicts` (grade_id -> `autograder.grading.verify.Verdict`),
`warnings` (what the student should know of a notebook graded anyway), `skip_cells` (cell
indices SandboxedExecute leaves unrun) and `teaching_cells` (which teaching-only cells were
skipped, and why the others ran: `autograder.grading.teaching_cells`), and the masters as
read once for the steps (`autograder.grading.master_source`).
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_output


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as a kernel would send it, for a step to put in a cell."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def state(resources: dict) -> dict:
    """The kit's part of nbgrader's `resources` (made on first use)."""
    return resources.setdefault("autograder", {})
