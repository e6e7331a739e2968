"""Where bwrap cannot run (forced here, as root): the kernel still runs as an unprivileged uid
of its own that cannot read the masters, the gradebook or other submissions, with a cleared
environment and every rlimit (process count included); the grade table says so."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder.exports.table import grade_table
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.gradebook.record import ledger_rows
from autograder.sandbox import policy
from autograder.sandbox.policy import KERNEL_UID_BASE, Limits
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-no-bwrap"),
              pytest.mark.skipif(os.geteuid() != 0 or not policy.SETPRIV,
                                 reason="switching to the kernel uid needs root and setpriv")]

SECRET = "grader-secret-" + uuid.uuid4().hex


def _probe(secrets: list[Path]) -> str:
    return f"""
import os, resource
print("UID", os.getuid())
for path in {[str(p) for p in secrets]!r}:
    try:
        open(path, "rb").read(10)
        print("READ", path)
    except OSError as exc:
        print("DENIED", path, type(exc).__name__)
print("ENV", "LEAK" if any({SECRET!r} in v for v in os.environ.values()) else "clean")
try:
    print("ENVIRON1", "LEAK" if {SECRET!r} in open("/proc/1/environ").read() else "clean")
except OSError as exc:
    print("ENVIRON1", type(exc).__name__)
print("NPROC", resource.getrlimit(resource.RLIMIT_NPROC)[0],
      "AS", resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)
import time
children = 0
try:
    for _ in range(300):
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
        children += 1
except OSError as exc:
    print("FORK-REFUSED", type(exc).__name__, children)
{SQUARE}"""


def kernel_uids(rows) -> set[int]:
    """The kernel uids a batch's notebooks ran as (from each notebook's recorded isolation)."""
    return {int(m) for r in rows for nb in r.notebooks.values()
            for m in re.findall(r"uid (\d+)", nb.isolation)}


@pytest.fixture(scope="module")
def graded():
    # a course the kernel uid could otherwise reach (/tmp/pytest-of-root is private already)
    root = Path(f"/var/tmp/no-bwrap-{uuid.uuid4().hex[:8]}")
    root.mkdir(mode=0o755)
    # the interpreter may sit in a private folder (pyenv under a home): let other uids
    # traverse (not list) the folders above it, as an administrator would for a shared
    # interpreter, while the test runs
    closed = {folder: stat.S_IMODE(folder.stat().st_mode)
              for folder in Path(sys.executable).resolve().parents
              if not stat.S_IMODE(folder.stat().st_mode) & 0o001}
    mp = pytest.MonkeyPatch()
    try:
        for folder, mode in closed.items():
            os.chmod(folder, mode | 0o011)
        mp.setattr(policy, "_UNPRIVILEGED_PYTHON", {})
        mp.setenv("CI_JOB_TOKEN", SECRET)
        make_course(root)
        work = root / "work"
        subs = root / "submissions"
        secrets = [root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", work / "gradebook.db",
                   work / "submitted" / "perfect" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"]
        write_submission(subs, "probe", fill(root, square=_probe(secrets)))
        write_submission(subs, "perfect", fill(root))
        rows = grade_batch(subs, BatchOptions(
            root=root, work=work, workers=2, progress=False, use_bwrap=False,
            limits=Limits(cell_timeout=20, wall_clock=60, processes=64),
            assignments=[ASSIGNMENT]))
        nb = json.loads((work / "autograded" / "probe" / ASSIGNMENT /
                         f"{NOTEBOOK}.ipynb").read_text())
        printed = "".join("".join(o.get("text", "")) for c in nb["cells"]
                          for o in c.get("outputs", []))
        table = grade_table(ledger_rows(f"sqlite:///{work / 'gradebook.db'}"))
        modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in (root / "solutions", work)}
        left = subprocess.run(["ps", "-eo", "uid="], capture_output=True,
                              text=True).stdout.split()
        yield {"rows": {r.key[0]: r for r in rows}, "printed": printed, "table": table,
               "secrets": secrets, "modes": modes,
               "uids": kernel_uids(rows),
               "kernel_processes": [u for u in left if int(u) in kernel_uids(rows)]}
    finally:
        mp.undo()
        for folder, mode in closed.items():
            os.chmod(folder, mode)
        shutil.rmtree(root, ignore_errors=True)


def test_the_kernel_runs_as_its_own_unprivileged_uid(graded):
    uid = int(graded["printed"].split("UID ")[1].split()[0])
    assert uid >= KERNEL_UID_BASE
    assert graded["rows"]["probe"].score == FULL_MARKS
    assert graded["rows"]["perfect"].score == FULL_MARKS


def test_it_cannot_read_masters_gradebook_or_other_submissions(graded):
    for path in graded["secrets"]:
        assert f"DENIED {path} PermissionError" in graded["printed"], graded["printed"]
    assert graded["modes"] == {"solutions": 0o700, "work": 0o700}


def test_no_grader_variable_and_every_rlimit(graded):
    printed = graded["printed"]
    assert "ENV clean" in printed and "LEAK" not in printed
    assert "NPROC 64 AS 1024" in printed
    assert "FORK-REFUSED BlockingIOError" in printed
    assert graded["uids"] and graded["kernel_processes"] == []  # sleepers killed


def test_the_grade_table_says_which_isolation_each_run_had(graded):
    assert "kernels isolated by: no bwrap: uid" in graded["table"]
    nb = graded["rows"]["probe"].notebooks[NOTEBOOK]
    assert nb.isolation.startswith("no bwrap: uid ")
