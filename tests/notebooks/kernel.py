"""Run notebooks in a real Jupyter kernel (nbclient), as students and graders do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[2]
MASTERS = sorted(p for p in (ROOT / "solutions").glob("[0-9][0-9]-*/*.ipynb"))
RELEASES = sorted(p for p in (ROOT / "course").glob("[0-9][0-9]-*/*.ipynb"))
TIMEOUT = 120


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_graded_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


@dataclass
class CellError:
    index: int
    grade_id: str | None
    ename: str
    evalue: str


def _client(nb, folder: Path) -> NotebookClient:
    return NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )


def errors_of(nb) -> list[CellError]:
    """Every cell that raised, with its exception name and message."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(CellError(index, grade_id(cell), output["ename"], output["evalue"]))
    return found


def stderr_of(cell) -> str:
    return "".join(
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


def execute(path: Path):
    """Execute a notebook top to bottom in its own folder; return it with outputs."""
    nb = nbformat.read(path, as_version=4)
    _client(nb, path.parent).execute()
    return nb


class Session:
    """One kernel with a notebook's cells run in it; more cells can be run afterwards."""

    def __init__(self, client: NotebookClient, nb):
        self.client = client
        self.nb = nb

    def run(self, source: str) -> CellError | None:
        """Run source as a new code cell; return its error, if any."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        index = len(self.nb.cells) - 1
        try:
            self.client.execute_cell(cell, index)
        except CellExecutionError:
            pass
        for output in cell.outputs:
            if output.get("output_type") == "error":
                return CellError(index, None, output["ename"], output["evalue"])
        return None


@contextmanager
def session(path: Path) -> Iterator[Session]:
    """A kernel in which the whole notebook at `path` has run."""
    nb = nbformat.read(path, as_version=4)
    client = _client(nb, path.parent)
    with client.setup_kernel():
        for index, cell in enumerate(list(nb.cells)):
            client.execute_cell(cell, index)
        failures = errors_of(nb)
        assert not failures, f"{path.name} does not run cleanly: {json.dumps(str(failures))}"
        yield Session(client, nb)
