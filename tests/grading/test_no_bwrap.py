"""Where bwrap cannot run (forced here, as root): the kernel still runs as an unprivileged uid
of its own that cannot read the masters, the gradebook or other submissions, with a cleared
environment and every rlimit; its process count is bound by a pids cgroup where one can be made
(else by RLIMIT_NPROC: both are graded here), what it writes by a disk quota, and nothing it
left in /tmp, /var/tmp or /dev/shm survives; the grade table says which limits bound."""

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
from autograder.grading.outcome import DISK_QUOTA
from autograder.sandbox import policy
from autograder.sandbox.pids_cgroup import pids_base
from autograder.sandbox.policy import KERNEL_UID_BASE, Limits
from autograder.sandbox.scratch_quota import WORLD_WRITABLE
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


QUOTA_MB = 16


def _hoard(tag: str, outside: Path) -> str:
    """Plant files, folders and links in every world-writable folder, then write 4 MB files
    into the working folder until the quota stops the kernel."""
    return f"""
import os
os.listdir(".")  # its working folder is its scratch folder
for top in {[str(t) for t in WORLD_WRITABLE]!r}:
    with open(os.path.join(top, "hoard-{tag}.txt"), "w") as f:
        f.write("left behind")
    os.makedirs(os.path.join(top, "hoard-{tag}-dir", "deeper"), exist_ok=True)
    os.symlink({str(outside)!r}, os.path.join(top, "hoard-{tag}-dir", "deeper", "link"))
    os.symlink({str(outside / "keep.txt")!r}, os.path.join(top, "hoard-{tag}-link"))
import sys, time
print("PLANTED")
sys.stdout.flush()
time.sleep(0.5)  # let the output reach the grader before the kernel is stopped
block = b"x" * (4 * 2**20 - 1)
for i in range(100):
    with open(f"blob-{{i}}", "wb") as f:
        f.write(block)
print("WROTE-ALL")
{SQUARE}"""


def _stale_cgroups() -> list[str]:
    """Kernel cgroups whose grading process is gone (none should outlive their kernel)."""
    base = pids_base()
    if base is None:
        return []
    stale = []
    for entry in base.glob("autograder-*"):
        pid = entry.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            stale.append(entry.name)
    return stale


def kernel_uids(rows) -> set[int]:
    """The kernel uids a batch's notebooks ran as (from each notebook's recorded isolation)."""
    return {int(m) for r in rows for nb in r.notebooks.values()
            for m in re.findall(r"uid (\d+)", nb.isolation)}


def _printed(work: Path, student: str) -> str:
    nb = json.loads((work / "autograded" / student / ASSIGNMENT /
                     f"{NOTEBOOK}.ipynb").read_text())
    return "".join("".join(o.get("text", "")) + o.get("evalue", "") for c in nb["cells"]
                   for o in c.get("outputs", []))


def _left_in_world_writable(uids: set[int]) -> list[str]:
    found = []
    for top in WORLD_WRITABLE:
        for entry in os.scandir(top):
            if entry.stat(follow_symlinks=False).st_uid in uids:
                found.append(entry.path)
    return found


@pytest.fixture(scope="module", params=["cgroup", "rlimit"])
def graded(request):
    """One batch with the pids cgroup (where this machine lets root make one) and one with
    RLIMIT_NPROC only."""
    cgroup = request.param == "cgroup"
    if cgroup and pids_base() is None:
        pytest.skip("no writable pids cgroup here")
    tag = uuid.uuid4().hex[:8]
    # a course the kernel uid could otherwise reach (pytest's temporary folder is private)
    root = Path(f"/var/tmp/no-bwrap-{tag}")
    root.mkdir(mode=0o755)
    outside = root / "outside"  # a host folder the hoarder links to: it must survive
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
        outside.mkdir()
        (outside / "keep.txt").write_text("the grader's")
        write_submission(subs, "probe", fill(root, square=_probe(secrets)))
        write_submission(subs, "hoarder", fill(root, square=_hoard(tag, outside)))
        write_submission(subs, "perfect", fill(root))
        rows = grade_batch(subs, BatchOptions(
            root=root, work=work, workers=2, progress=False, use_bwrap=False,
            pids_cgroup=cgroup,
            limits=Limits(cell_timeout=20, wall_clock=60, processes=64, scratch_mb=QUOTA_MB,
                          file_size_mb=4),
            assignments=[ASSIGNMENT]))
        printed = _printed(work, "probe")
        table = grade_table(ledger_rows(f"sqlite:///{work / 'gradebook.db'}"))
        modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in (root / "solutions", work)}
        left = subprocess.run(["ps", "-eo", "uid="], capture_output=True,
                              text=True, timeout=30).stdout.split()
        uids = kernel_uids(rows)
        yield {"rows": {r.key[0]: r for r in rows}, "printed": printed, "table": table,
               "secrets": secrets, "modes": modes, "uids": uids, "cgroup": cgroup,
               "hoarder": _printed(work, "hoarder"), "tag": tag, "outside": outside,
               "left": _left_in_world_writable(uids),
               "hoard_left": [str(p) for top in WORLD_WRITABLE
                              for p in top.glob(f"hoard-{tag}*")],
               "kept": (outside / "keep.txt").read_text(),
               "cgroups": _stale_cgroups(),
               "kernel_processes": [u for u in left if int(u) in uids]}
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
    assert " AS 1024" in printed
    forked = int(printed.split("FORK-REFUSED BlockingIOError ")[1].split()[0])
    assert forked < 64, printed
    assert graded["uids"] and graded["kernel_processes"] == []  # sleepers killed


def test_the_pids_cgroup_binds_where_it_can_be_made_else_rlimit_nproc(graded):
    printed = graded["printed"]
    nproc = int(printed.split("NPROC ")[1].split()[0])
    if graded["cgroup"]:  # no RLIMIT_NPROC: the refused forks were the cgroup's doing
        assert nproc > 1000, printed
    else:
        assert nproc == 64, printed
    assert graded["cgroups"] == []  # every kernel's cgroup removed


def test_the_grade_table_says_which_isolation_and_process_limit_each_run_had(graded):
    assert "kernels isolated by: no bwrap: uid" in graded["table"]
    nb = graded["rows"]["probe"].notebooks[NOTEBOOK]
    assert nb.isolation.startswith("no bwrap: uid ")
    limit = "pids cgroup (64 processes)" if graded["cgroup"] else "RLIMIT_NPROC (64 processes)"
    assert limit in nb.isolation and limit in graded["table"]
    assert f"{QUOTA_MB} MB disk quota" in nb.isolation


def test_a_notebook_over_the_disk_quota_is_stopped_with_its_named_error(graded):
    row = graded["rows"]["hoarder"]
    outcome = row.notebooks[NOTEBOOK].outcome
    assert outcome.kind is DISK_QUOTA, outcome
    assert f"{QUOTA_MB} MB disk quota" in outcome.detail
    assert "PLANTED" in graded["hoarder"] and "WROTE-ALL" not in graded["hoarder"]
    assert "disk quota" in graded["hoarder"]  # the cell says why it stopped
    assert graded["rows"]["perfect"].score == FULL_MARKS  # the batch went on


def test_nothing_the_kernel_uid_left_in_world_writable_folders_survives(graded):
    assert graded["hoard_left"] == [] and graded["left"] == []
    assert graded["kept"] == "the grader's"  # links removed, never followed
