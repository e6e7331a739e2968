"""A grader that is not root, without bwrap (forced): its kernels keep the grader's uid, and a
process limit still binds: a pids cgroup where the grader was delegated one, else RLIMIT_NPROC
set to what the grader's uid runs already plus the allowance. Whatever a kernel left running
(even in a session of its own) is killed after its notebook, and the disk quota holds.

The grade runs in a process of an unprivileged uid of its own (no passwd entry needed), started
here as root; the course belongs to that uid.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder.grading.outcome import DISK_QUOTA
from autograder.sandbox import policy
from autograder.sandbox.pids_cgroup import candidate_bases
from autograder.sandbox.runtime import kill_uid
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-without-bwrap"),
              pytest.mark.skipif(os.geteuid() != 0 or not policy.SETPRIV,
                                 reason="starting a grader as another uid needs root, setpriv")]

QUOTA_MB = 16

FORK_STORM = """
import os, resource, sys, time
print("UID", os.getuid(), "NPROC", resource.getrlimit(resource.RLIMIT_NPROC)[0])
forked, refused = 0, None  # forked: sleepers made (each a grandchild in a session of its own)
for _ in range(300):
    try:
        pid = os.fork()
    except OSError as exc:
        refused = type(exc).__name__
        break
    if pid == 0:
        os.setsid()  # out of the kernel's session and process group
        try:
            if os.fork():
                os._exit(0)  # the grandchild sleeps on, orphaned at once
        except BlockingIOError:
            os._exit(11)
        time.sleep(300)
        os._exit(0)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if status == 11:
        refused = "BlockingIOError"
        break
    forked += 1
print("FORKED", forked, "REFUSED", refused)
sys.stdout.flush()
""" + SQUARE

HOARD = """
import sys, time
print("WRITING")
sys.stdout.flush()
time.sleep(0.5)
block = b"x" * (4 * 2**20 - 1)
for i in range(100):
    with open(f"blob-{i}", "wb") as f:
        f.write(block)
print("WROTE-ALL")
""" + SQUARE

GRADE = """
import json, sys
from pathlib import Path
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.sandbox.policy import Limits

root, quota, assignment = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = grade_batch(root / "submissions", BatchOptions(
    root=root, work=root / "work", workers=2, progress=False, use_bwrap=False,
    limits=Limits(cell_timeout=20, wall_clock=60, processes=64, scratch_mb=quota,
                  file_size_mb=4),
    assignments=[assignment]))
out = {r.key[0]: {"score": r.score, "isolation": nb.isolation, "kind": nb.outcome.kind.value,
                  "outcome": str(nb.outcome)}
       for r in rows for nb in r.notebooks.values()}
(root / "result.json").write_text(json.dumps(out))
"""


def _processes_of(uid: int) -> list[str]:
    """The live processes of `uid` (a zombie has exited and runs nothing: it waits only for
    its new parent, init, to collect its exit status)."""
    out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-u", str(uid)], capture_output=True,
                         text=True, timeout=30).stdout
    return [line for line in out.splitlines()
            if line.strip() and not line.split()[1].startswith("Z")]


def _v1_pids_mount() -> Path | None:
    return next((b for b in candidate_bases() if not (b / "cgroup.subtree_control").exists()),
                None)


@pytest.fixture(scope="module", params=["rlimit", "delegated-cgroup"])
def graded(request):
    delegated = request.param == "delegated-cgroup"
    base = _v1_pids_mount()
    if delegated and (base is None or not os.access(base, os.W_OK)):
        pytest.skip("no cgroup v1 pids hierarchy to delegate from here")
    uid = 1_600_000_000 + random.randrange(1_000_000)
    tag = uuid.uuid4().hex[:8]
    root = Path(f"/var/tmp/non-root-{tag}")
    root.mkdir(mode=0o755)
    # the interpreter may sit in a private folder (pyenv under a home): let other uids
    # traverse (not list) the folders above it while the test runs
    closed = {folder: stat.S_IMODE(folder.stat().st_mode)
              for folder in Path(sys.executable).resolve().parents
              if not stat.S_IMODE(folder.stat().st_mode) & 0o001}
    group = None
    try:
        for folder, mode in closed.items():
            os.chmod(folder, mode | 0o011)
        make_course(root)
        subs = root / "submissions"
        write_submission(subs, "fork-storm", fill(root, square=FORK_STORM))
        write_submission(subs, "hoarder", fill(root, square=HOARD))
        write_submission(subs, "perfect", fill(root))
        (root / "home").mkdir()
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        venv_bin = Path(sys.executable).parent
        command = [policy.SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                   "/usr/bin/env", "-i", f"PATH={venv_bin}:/usr/bin:/bin",
                   f"HOME={root / 'home'}", "LANG=C.UTF-8",
                   sys.executable, "-c", GRADE, str(root), str(QUOTA_MB), ASSIGNMENT]
        if delegated:  # as an administrator delegates a subtree: the folder is the grader's
            group = base / f"delegated-{tag}"
            group.mkdir()
            for path in [group, group / "cgroup.procs", group / "tasks"]:
                os.chown(path, uid, uid)
            command = ["/bin/sh", "-c", 'echo 0 > "$0" && exec "$@"',
                       str(group / "cgroup.procs"), *command]
        run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root)
        assert run.returncode == 0, run.stderr[-3000:]
        result = json.loads((root / "result.json").read_text())
        printed = {}
        for student in result:
            nb = json.loads((root / "work" / "autograded" / student / ASSIGNMENT /
                             f"{NOTEBOOK}.ipynb").read_text())
            printed[student] = "".join("".join(o.get("text", "")) + o.get("evalue", "")
                                       for c in nb["cells"] for o in c.get("outputs", []))
        yield {"uid": uid, "result": result, "printed": printed, "delegated": delegated,
               "left": _processes_of(uid), "stderr": run.stderr,
               "groups": sorted(p.name for p in group.iterdir() if p.is_dir()) if group else []}
    finally:
        kill_uid(uid)  # (only if a test failed: nothing of this uid should be left)
        for folder, mode in closed.items():
            os.chmod(folder, mode)
        if group is not None:
            for child in [*group.glob("autograder-*"), group]:
                try:
                    child.rmdir()
                except OSError:
                    pass
        shutil.rmtree(root, ignore_errors=True)


def test_the_kernel_keeps_the_grader_uid_and_grades(graded):
    printed = graded["printed"]["fork-storm"]
    assert f"UID {graded['uid']} " in printed, printed
    assert graded["result"]["perfect"]["score"] == FULL_MARKS
    assert graded["result"]["fork-storm"]["score"] == FULL_MARKS


def test_a_process_limit_binds_for_a_non_root_grader(graded):
    printed = graded["printed"]["fork-storm"]
    forked = int(printed.split("FORKED ")[1].split()[0])
    assert "REFUSED BlockingIOError" in printed and forked < 64, printed
    nproc = int(printed.split("NPROC ")[1].split()[0])
    isolation = graded["result"]["fork-storm"]["isolation"]
    if graded["delegated"]:  # the cgroup binds: no RLIMIT_NPROC
        assert nproc > 1000 and "pids cgroup (64 processes)" in isolation, isolation
        assert graded["groups"] == []  # every kernel's cgroup removed
    else:  # what the grader's uid ran already, plus the allowance
        assert 64 < nproc < 64 + 200, printed
        assert "RLIMIT_NPROC (the grader's uid: 64 processes over its own)" in isolation
    assert isolation.startswith("no bwrap: the grader's uid")


def test_nothing_a_kernel_started_outlives_its_notebook(graded):
    # the storm's children left the kernel's session and orphaned grandchildren: each was
    # still found and killed (they would sleep for 300 s)
    assert graded["left"] == [], graded["left"]


def test_the_disk_quota_holds_for_a_non_root_grader(graded):
    hoarder = graded["result"]["hoarder"]
    assert hoarder["kind"] == DISK_QUOTA.value, hoarder
    assert "WRITING" in graded["printed"]["hoarder"]
    assert "WROTE-ALL" not in graded["printed"]["hoarder"]
