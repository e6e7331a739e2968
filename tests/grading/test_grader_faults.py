"""A fault of the grader is never a student's outcome: any TMPDIR the grader runs with works
(per-user 0700 folders, folders under /var/tmp, on the bwrap path and without bwrap), and when
kernels cannot start at all `grade` stops before anyone is graded, saying what to fix.

Through the real command line, with a pool of 2."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder.sandbox import policy
from autograder.sandbox.policy import Limits, Sandbox
from autograder.sandbox.runtime import GraderFault, reachable, runtime_base
from tests.grading.fixture_course import (
    FULL_MARKS,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grader-faults")]

needs_bwrap = pytest.mark.skipif(not policy.bwrap_works(), reason="bwrap cannot run here")
needs_root = pytest.mark.skipif(os.geteuid() != 0 or not policy.SETPRIV,
                                reason="a kernel uid of its own needs root and setpriv")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    make_course(root)
    write_submission(root / "subs", "ada", fill(root))
    write_submission(root / "subs", "bob", fill(root, square=None))
    return root


def _grade(root: Path, work: Path, *extra: str, tmpdir: Path | None = None):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ.get('PATH', '')}")
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([sys.executable, "-m", "autograder", "grade", str(root / "subs"),
                           "--root", str(root), "--work", str(work), "--workers", "2",
                           "--quiet", *extra], capture_output=True, text=True, env=env,
                          timeout=300)


def _scores(work: Path) -> dict[str, tuple[float, str]]:
    from autograder.gradebook.record import ledger_rows

    return {r.student: (r.score, str(r.outcome.kind))
            for r in ledger_rows(f"sqlite:///{work / 'gradebook.db'}")}


def _tmpdirs(tag: str) -> dict[str, tuple[Path, int]]:
    """The TMPDIRs clusters, CI runners and per-user set-ups give a grader."""
    return {"0700 under /tmp": (Path(f"/tmp/grader-{tag}-private"), 0o700),
            "0755 under /tmp": (Path(f"/tmp/grader-{tag}-open"), 0o755),
            "0700 under /var/tmp": (Path(f"/var/tmp/grader-{tag}-job"), 0o700)}


@pytest.mark.parametrize("path", [
    pytest.param("bwrap", marks=needs_bwrap),
    pytest.param("no bwrap, root grader", marks=needs_root),
])
def test_any_tmpdir_grades_every_submission_as_with_the_default(course, tmp_path, path):
    tag = uuid.uuid4().hex[:8]
    extra = [] if path == "bwrap" else ["--Grader.bwrap=False"]
    folders = _tmpdirs(tag)
    try:
        for name, (folder, mode) in folders.items():
            folder.mkdir(mode=mode)
            os.chmod(folder, mode)
            work = tmp_path / f"work-{len(list(tmp_path.iterdir()))}"
            done = _grade(course, work, *extra, tmpdir=folder)
            assert done.returncode == 0, (name, done.stderr[-2000:])
            assert _scores(work) == {"ada": (FULL_MARKS, "graded"), "bob": (1.0, "graded")}, \
                (name, done.stdout[-2000:])
            assert "kernel died" not in done.stdout
            left = [p.name for p in folder.iterdir()]
            assert left == [], (name, left)  # every runtime folder removed
    finally:
        for folder, _ in folders.values():
            shutil.rmtree(folder, ignore_errors=True)


def test_kernels_that_cannot_start_stop_grade_before_anyone_is_graded(course, tmp_path):
    work = tmp_path / "work"
    done = _grade(course, work, "--memory", "20")  # too little for Python itself
    assert done.returncode == 2, done.stdout[-2000:]
    assert "kernels cannot start here" in done.stderr and "nobody was graded" in done.stderr
    assert "memory limit (--memory)" in done.stderr  # what to check
    assert "kernel died" not in done.stdout + done.stderr
    with sqlite3.connect(work / "gradebook.db") as db:  # nobody recorded, nobody blamed
        tables = {r[0] for r in db.execute("select name from sqlite_master")}
        graded = (db.execute("select count(*) from submitted_notebook").fetchone()[0]
                  if "submitted_notebook" in tables else 0)
    assert graded == 0


def test_a_kernel_that_cannot_start_in_a_worker_is_the_graders_fault_not_the_notebooks():
    """Past the preflight (a disk filling up mid-batch): two failed starts raise GraderFault,
    which stops the batch, never a `kernel died` result; a kernel that started and then died
    is the notebook's."""
    from nbformat.v4 import new_code_cell, new_notebook
    from traitlets.config import Config

    from autograder.grading.outcome import KERNEL_DIED
    from autograder.grading.pipeline import execute_notebook

    def run(memory_mb: int, source: str):
        sandbox = Sandbox(hidden=[], limits=Limits(memory_mb=memory_mb, cell_timeout=10,
                                                   wall_clock=60),
                          use_bwrap=False, warm_kernels=False)
        nb = new_notebook(cells=[new_code_cell(source)])
        return execute_notebook(nb, {"autograder": {}, "metadata": {"path": "."}}, Config(),
                                sandbox)

    with pytest.raises(GraderFault, match="before any student code ran"):
        run(20, "print(1)")
    _, resources = run(1024, "import os\nos._exit(3)")
    assert resources["autograder"]["failure"] == KERNEL_DIED


def test_the_runtime_base_is_one_the_kernel_uid_can_reach(tmp_path, monkeypatch):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    monkeypatch.setattr("tempfile.tempdir", str(private))
    assert runtime_base(None) == private  # the grader's own uid: its TMPDIR as it is
    uid = 1_700_000_000 + 12345
    assert not reachable(private, uid)
    base = runtime_base(uid)
    assert base != private and reachable(base, uid)
