"""Every master passes every test with its teaching-only cells skipped, as grading skips them.

The tags are the master's (`teaching-only`, see autograder/grading/teaching_cells.py); each
must sit on a locked cell that is no answer and no test, and no later cell of the master may
read a name it defines (else grading would run it anyway, and the tag only misleads).
"""

import time

import nbformat
import pytest

from autograder.grading.teaching_cells import cells_to_skip, is_teaching, misplaced_tags
from tests.notebooks.kernel import MASTERS, ROOT, _client, errors_of, is_graded_test, stderr_of

pytestmark = pytest.mark.notebooks


@pytest.mark.parametrize("path", MASTERS, ids=lambda p: p.parent.name)
def test_every_teaching_tag_is_one_grading_can_skip(path):
    master = nbformat.read(path, as_version=4)
    assert not misplaced_tags(master), f"{path.relative_to(ROOT)}: {misplaced_tags(master)}"
    plan = cells_to_skip(master, master)
    tagged = {i for i, c in enumerate(master.cells) if is_teaching(c)}
    assert plan.skip == tagged, (
        f"{path.relative_to(ROOT)}: tagged teaching-only but needed by a later cell, so "
        f"graded runs keep them (untag them or stop the reader needing them): "
        f"{plan.run_anyway}")


@pytest.mark.parametrize("path", MASTERS, ids=lambda p: p.parent.name)
def test_master_passes_every_test_with_its_teaching_cells_skipped(path):
    master = nbformat.read(path, as_version=4)
    skip = cells_to_skip(master, master).skip
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in skip]
    started = time.perf_counter()
    _client(nb, path.parent).execute()
    seconds = time.perf_counter() - started
    assert not errors_of(nb), (f"{path.relative_to(ROOT)} with its teaching-only cells "
                               f"skipped raised: {errors_of(nb)}")
    tests = [c for c in nb.cells if is_graded_test(c)]
    assert tests and len(tests) == sum(is_graded_test(c) for c in master.cells)
    for cell in tests:
        assert not stderr_of(cell), (
            f"{path.name}: with the teaching cells skipped, test cell "
            f"{cell.metadata.nbgrader['grade_id']} writes to stderr: {stderr_of(cell)[:300]}")
    print(f"{path.parent.name}: {len(skip)} teaching cells skipped, executed in {seconds:.1f} s")
