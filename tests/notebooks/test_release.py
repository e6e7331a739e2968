"""The student release: in step with the masters, no answers, and a first run that shows stubs."""

import filecmp
import shutil

import nbformat
import pytest

from tests.notebooks.kernel import RELEASES, ROOT, errors_of, execute, grade_id, is_graded_test

pytestmark = pytest.mark.notebooks


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_release_notebook_fails_only_with_the_stubs(path):
    nb = execute(path)
    errors = errors_of(nb)
    unexpected = [e for e in errors if e.ename != "NotImplementedError"]
    assert not unexpected, (
        f"{path.relative_to(ROOT)}: on a student's first run these cells fail with something "
        f"other than the stubs' NotImplementedError: {unexpected}"
    )
    failed = {e.grade_id for e in errors}
    for cell in nb.cells:
        if is_graded_test(cell):
            assert grade_id(cell) in failed, (
                f"{path.relative_to(ROOT)}: graded test {grade_id(cell)} passes with the stub "
                "answer; a test must fail until the exercise is done"
            )


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_release_contains_no_solution_or_hidden_test(path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.relative_to(ROOT)} still contains {marker!r}"


def test_release_is_in_step_with_the_masters(tmp_path):
    """Regenerating course/ from solutions/ changes nothing that is committed."""
    from autograder.course import existing_assignments
    from autograder.release import release

    scratch = tmp_path / "kit"
    for folder in ("solutions", "course"):
        shutil.copytree(ROOT / folder, scratch / folder, ignore=shutil.ignore_patterns(
            "autodiff", "coursekit", "__pycache__", ".ipynb_checkpoints"))
    release(existing_assignments(ROOT), root=scratch)
    stale = []
    for assignment in existing_assignments(ROOT):
        fresh, committed = scratch / "course" / assignment, ROOT / "course" / assignment
        comparison = filecmp.dircmp(fresh, committed, ignore=["__pycache__", ".ipynb_checkpoints"])
        if comparison.left_only or comparison.right_only:
            extra = comparison.left_only + comparison.right_only
            stale.append(f"{assignment}: files differ {extra}")
        for name in comparison.common_files:
            if name.endswith(".ipynb"):
                a = nbformat.read(fresh / name, as_version=4)
                b = nbformat.read(committed / name, as_version=4)
                if [(c.cell_type, c.source, c.metadata) for c in a.cells] != [
                    (c.cell_type, c.source, c.metadata) for c in b.cells
                ]:
                    stale.append(f"{assignment}/{name}")
            elif not filecmp.cmp(fresh / name, committed / name, shallow=False):
                stale.append(f"{assignment}/{name}")
    assert not stale, f"course/ is stale; run `make release` and commit: {stale}"
