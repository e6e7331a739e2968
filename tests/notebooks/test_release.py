"""The student release: in step with the masters, no answers, and a first run that shows
the stubs and runs through them."""

import filecmp
import shutil

import nbformat
import pytest

from tests.notebooks.kernel import RELEASES, ROOT, errors_of, execute, grade_id, is_graded_test

pytestmark = pytest.mark.notebooks

RAISES = "raises-exception"


@pytest.fixture(scope="module", params=[
    # One xdist group per notebook, so both tests reading its run share one execution.
    pytest.param(p, id=p.parent.name, marks=pytest.mark.xdist_group(f"release-{p.parent.name}"))
    for p in RELEASES
])
def first_run(request):
    """A release notebook as a student's first run leaves it: executed top to bottom, stubs
    and all. Returns (path, executed notebook)."""
    return request.param, execute(request.param)


def test_release_notebook_fails_only_with_the_stubs(first_run):
    path, nb = first_run
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


def test_cells_that_raise_on_a_first_run_are_tagged_raises_exception(first_run):
    """JupyterLab's Run All goes on past an error only in a cell tagged raises-exception (it
    sends stop_on_error false for it); on any other error the kernel drops every queued cell
    below. So exactly the cells that raise with the stubs carry the tag: a student's first
    Run All shows every exercise's error and runs everything else."""
    path, nb = first_run
    raised = {e.index for e in errors_of(nb) if e.ename == "NotImplementedError"}
    tagged = {i for i, c in enumerate(nb.cells) if RAISES in c.metadata.get("tags", [])}
    master = path.relative_to(ROOT / "course")

    def named(indices):
        return [f"cell {i} ({grade_id(nb.cells[i]) or 'no grade_id'})" for i in sorted(indices)]

    assert not raised - tagged, (
        f"{path.relative_to(ROOT)}: these cells raise NotImplementedError on a first run but "
        f"are not tagged {RAISES!r}, so Run All stops at them: {named(raised - tagged)}; tag "
        f"them in solutions/{master.as_posix()} and run `make release`"
    )
    assert not tagged - raised, (
        f"{path.relative_to(ROOT)}: these cells are tagged {RAISES!r} but run cleanly on a "
        f"first run, so an unexpected error there would not stop Run All: "
        f"{named(tagged - raised)}; untag them in solutions/{master.as_posix()} and run "
        "`make release`"
    )


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_release_contains_no_solution_or_hidden_test(path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.relative_to(ROOT)} still contains {marker!r}"


def test_release_is_in_step_with_the_masters(tmp_path):
    """Regenerating course/ from solutions/ changes nothing that is committed."""
    from autograder.authoring.release import release
    from autograder.course import existing_assignments

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
