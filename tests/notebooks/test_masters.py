"""Every master notebook runs top to bottom in a real kernel with every test passing."""

import time

import pytest

from tests.notebooks.kernel import MASTERS, ROOT, errors_of, execute, is_graded_test, stderr_of

pytestmark = pytest.mark.notebooks


@pytest.mark.parametrize("path", MASTERS, ids=lambda p: p.parent.name)
def test_master_notebook_passes_every_test(path):
    started = time.perf_counter()
    nb = execute(path)
    seconds = time.perf_counter() - started
    assert not errors_of(nb), f"{path.relative_to(ROOT)} raised: {errors_of(nb)}"
    for cell in nb.cells:
        if is_graded_test(cell):
            assert not stderr_of(cell), (
                f"{path.name}: test cell {cell.metadata.nbgrader['grade_id']} writes to stderr "
                f"(nbgrader would score it 0): {stderr_of(cell)[:300]}"
            )
    print(f"{path.parent.name}: executed in {seconds:.1f} s")


@pytest.mark.parametrize("path", MASTERS, ids=lambda p: p.parent.name)
def test_master_notebook_is_stored_without_outputs(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    with_outputs = [
        i for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not with_outputs, (
        f"{path.relative_to(ROOT)} is stored with outputs in cells {with_outputs}; "
        "clear them (Edit > Clear Outputs of All Cells) before committing"
    )
