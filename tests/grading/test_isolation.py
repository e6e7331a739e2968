"""What student code can reach, graded as a batch: an allow-list filesystem, no grader
environment (not even through /proc/1/environ), no host socket, a bounded process count.

One batch per way of bounding processes (two workers, sandbox on): warm kernels in a zygote
whose sandbox has a pids cgroup, kernels started anew each in a cgroup of its own, and
RLIMIT_NPROC of the kernel uid only. Each batch: a probe that tries everything, a bounded fork
storm, and a perfect submission graded beside them. Each test checks the score, the files and
the processes afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.sandbox.pids_cgroup import pids_base
from autograder.sandbox.policy import KERNEL_UID_BASE, Limits, bwrap_works
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-isolation"),
              pytest.mark.skipif(not bwrap_works(), reason="bwrap cannot create namespaces")]

SECRET = "grader-secret-" + uuid.uuid4().hex


def _probe(copies: list[Path], sock: Path) -> str:
    return f"""
import os, socket
for path in {[str(c) for c in copies]!r}:
    try:
        print("SEEN" if os.listdir(path) else "EMPTY", path)
    except OSError as exc:
        print("ABSENT", path, type(exc).__name__)
for pid in ("1", "self", str(os.getppid())):
    try:
        text = open(f"/proc/{{pid}}/environ", "rb").read().decode(errors="replace")
        print("ENVIRON", pid, "LEAK" if {SECRET!r} in text else "clean", len(text))
    except OSError as exc:
        print("ENVIRON", pid, type(exc).__name__)
print("OWN-ENV", "LEAK" if any({SECRET!r} in v for v in os.environ.values()) else "clean")
s = socket.socket(socket.AF_UNIX)
try:
    s.connect({str(sock)!r})
    print("SOCKET-OPEN")
except OSError as exc:
    print("SOCKET-BLOCKED", type(exc).__name__)
print("TOP", sorted(os.listdir("/")))
print("UID", os.getuid())
{SQUARE}"""


FORK_STORM = """
import os, resource, time
print("NPROC", resource.getrlimit(resource.RLIMIT_NPROC)[0])
children, refused = [], None
for i in range(400):
    try:
        pid = os.fork()
    except OSError as exc:
        refused = type(exc).__name__
        break
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    children.append(pid)
print("FORKED", len(children), "REFUSED", refused)
""" + SQUARE


def kernel_uids(rows) -> set[int]:
    """The kernel uids a batch's notebooks ran as (from each notebook's recorded isolation)."""
    return {int(m) for r in rows for nb in r.notebooks.values()
            for m in re.findall(r"uid (\d+)", nb.isolation)}


MODES = {"zygote+cgroup": dict(warm_kernels=True, pids_cgroup=True),
         "anew+cgroup": dict(warm_kernels=False, pids_cgroup=True),
         "rlimit": dict(warm_kernels=True, pids_cgroup=False)}


@pytest.fixture(scope="module", params=list(MODES))
def graded(tmp_path_factory, request):
    mode = MODES[request.param]
    if mode["pids_cgroup"] and pids_base() is None:
        pytest.skip("no writable pids cgroup here")
    root = make_course(tmp_path_factory.mktemp("course"))
    work = root / "work"
    tag = uuid.uuid4().hex[:8]
    # copies of the masters outside the repository, where a grader's machine may keep them
    # (the grader's home, and the persistent system temp folder)
    copies = [Path.home() / f".masters-{tag}", Path("/var/tmp") / f"masters-{tag}"]
    for copy in copies:
        shutil.copytree(root / "solutions", copy)
    # a host service's socket where services keep them (/run; /tmp was a tmpfs already)
    sock = Path(f"/run/autograder-test-{tag}.sock") if os.access("/run", os.W_OK) else \
        tmp_path_factory.mktemp("host-service") / "service.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock))
    listener.listen(5)
    subs = root / "submissions"
    write_submission(subs, "probe", fill(root, square=_probe(copies, sock)))
    write_submission(subs, "fork-storm", fill(root, square=FORK_STORM))
    write_submission(subs, "perfect", fill(root))
    mp = pytest.MonkeyPatch()
    mp.setenv("CI_JOB_TOKEN", SECRET)  # in the grader's environment, as a CI job has it
    try:
        rows = grade_batch(subs, BatchOptions(
            root=root, work=work, workers=2, progress=False, require_sandbox=True, **mode,
            limits=Limits(cell_timeout=20, wall_clock=60, processes=64),
            assignments=[ASSIGNMENT]))
        listener.settimeout(0.1)
        try:
            listener.accept()
            accepted = True
        except OSError:
            accepted = False
    finally:
        mp.undo()
        listener.close()
        sock.unlink(missing_ok=True)
        for copy in copies:
            shutil.rmtree(copy, ignore_errors=True)
    left = subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True,
                          timeout=30).stdout.split()
    cgroups = [g.name for g in (pids_base() or Path("/nonexistent")).glob("autograder-*")
               if g.name.split("-")[1].isdigit()
               and not Path(f"/proc/{g.name.split('-')[1]}").exists()]
    return {"rows": {r.key[0]: r for r in rows}, "work": work, "accepted": accepted,
            "copies": copies, "uids": kernel_uids(rows), "cgroup": mode["pids_cgroup"],
            "stale_cgroups": cgroups,
            "kernel_processes": [u for u in left if int(u) in kernel_uids(rows)]}


def _printed(graded, student) -> str:
    path = graded["work"] / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = json.loads(path.read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def test_masters_elsewhere_on_the_machine_do_not_exist_inside(graded):
    printed = _printed(graded, "probe")
    for copy in graded["copies"]:
        assert f"ABSENT {copy} FileNotFoundError" in printed, printed
    top = next(line for line in printed.splitlines() if line.startswith("TOP"))
    for name in ("home", "opt", "run", "var", "srv", "mnt"):
        assert f"'{name}'" not in top, top
    assert graded["rows"]["probe"].score == FULL_MARKS


def test_no_grader_variable_reaches_the_kernel_not_even_through_proc_1(graded):
    printed = _printed(graded, "probe")
    assert "LEAK" not in printed, printed
    assert "OWN-ENV clean" in printed
    assert "ENVIRON 1 " in printed  # it tried pid 1 (bwrap's init)


def test_a_host_unix_socket_cannot_be_reached(graded):
    printed = _printed(graded, "probe")
    assert "SOCKET-BLOCKED" in printed and "SOCKET-OPEN" not in printed
    assert graded["accepted"] is False


def test_the_kernel_runs_as_an_unprivileged_uid_of_its_own(graded):
    uid = int(next(line for line in _printed(graded, "probe").splitlines()
                   if line.startswith("UID")).split()[1])
    assert uid >= KERNEL_UID_BASE


def test_a_fork_storm_is_bounded_and_costs_only_its_notebook(graded):
    printed = _printed(graded, "fork-storm")
    forked = int(printed.split("FORKED ")[1].split()[0])
    assert "REFUSED BlockingIOError" in printed and forked < 64, printed
    assert graded["rows"]["fork-storm"].score == FULL_MARKS  # its own code still graded
    assert graded["rows"]["perfect"].score == FULL_MARKS
    assert graded["uids"] and graded["kernel_processes"] == []  # no kernel left running


def test_the_pids_cgroup_is_what_binds_where_it_can_be_made(graded):
    printed = _printed(graded, "fork-storm")
    nproc = int(printed.split("NPROC ")[1].split()[0])
    isolation = graded["rows"]["fork-storm"].notebooks[NOTEBOOK].isolation
    if graded["cgroup"]:  # no RLIMIT_NPROC at all: the cgroup refused the forks
        assert nproc > 1000 and "pids cgroup (64 processes)" in isolation, (printed, isolation)
    else:
        assert nproc == 64 and "RLIMIT_NPROC (64 processes)" in isolation, (printed, isolation)
    assert graded["stale_cgroups"] == []  # each removed with its kernel (or its zygote)
