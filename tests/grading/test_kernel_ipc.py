"""Nothing survives from one kernel to the next: student A leaves answers in SysV shared
memory, a semaphore set, a message queue, a POSIX message queue, /dev/shm and /tmp; student B,
graded next on the same warm worker (`--workers 1`), finds none of it. On the bwrap path each
forked kernel gets an IPC namespace of its own; without bwrap (root grader), the kernel uid's
IPC objects are removed after it, and no kernel may make a POSIX message queue at all.

Through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.sandbox import policy
from autograder.sandbox.ipc_objects import sysv_objects
from autograder.sandbox.policy import KERNEL_UID_BASE
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, SQUARE, fill, make_course

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("kernel-ipc")]

KEYS = (0x5EC2E7, 0x5EC2E8, 0x5EC2E9)  # SysV keys A uses and B looks up
QUEUE = b"/autograder-test-answers"

WRITER = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget({KEYS[0]}, 1 << 20, 0o1000 | 0o666)
ctypes.memmove(libc.shmat(shmid, None, 0), b"SYSV-ANSWER", 11)
semid = libc.semget({KEYS[1]}, 1, 0o1000 | 0o666)
msgid = libc.msgget({KEYS[2]}, 0o1000 | 0o666)
rt = ctypes.CDLL("librt.so.1", use_errno=True)
mq = rt.mq_open({QUEUE!r}, os.O_CREAT | os.O_RDWR, 0o666, None)
for path in ("/dev/shm/answers", "/tmp/answers"):
    with open(path, "w") as f:
        f.write("ANSWER")
print("WROTE", shmid, semid, msgid, "MQ", mq, "PPID", os.getppid())
"""
READER = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
found = []
for kind, key in (("shm", {KEYS[0]}), ("sem", {KEYS[1]}), ("msg", {KEYS[2]})):
    if getattr(libc, kind + "get")(key, 0, 0) >= 0:
        found.append("sysv-" + kind)
rt = ctypes.CDLL("librt.so.1", use_errno=True)
if rt.mq_open({QUEUE!r}, os.O_RDONLY | os.O_NONBLOCK, 0, None) >= 0:
    found.append("posix-mq")
found += [p for p in ("/dev/shm/answers", "/tmp/answers") if os.path.exists(p)]
print("FOUND", " ".join(found) or "nothing", "PPID", os.getppid())
"""


def _printed(work: Path, student: str) -> str:
    nb = json.loads((work / "autograded" / student / ASSIGNMENT /
                     f"{NOTEBOOK}.ipynb").read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"]
                   for o in c.get("outputs", []))


@pytest.mark.parametrize("path", [
    pytest.param("bwrap", marks=pytest.mark.skipif(not policy.bwrap_works(),
                                                   reason="bwrap cannot run here")),
    pytest.param("no bwrap", marks=pytest.mark.skipif(
        os.geteuid() != 0 or not policy.SETPRIV, reason="a kernel uid needs root, setpriv")),
])
def test_b_graded_after_a_on_one_warm_worker_sees_nothing_a_left(tmp_path, path):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    for student, source in (("a-writer", WRITER), ("b-reader", READER)):
        target = subs / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(fill(root, square=source + SQUARE), target)
    extra = [] if path == "bwrap" else ["--Grader.bwrap=False"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--root",
                           str(root), "--workers", "1", "--quiet", *extra],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    work = root / "work"
    wrote = _printed(work, "a-writer").split("WROTE ")[1].split()
    assert all(int(i) >= 0 for i in wrote[:3]), wrote  # A made all three SysV objects
    assert wrote[4] == "-1"  # and no POSIX message queue: RLIMIT_MSGQUEUE is 0
    read = _printed(work, "b-reader")
    assert "FOUND nothing" in read, read
    if path == "bwrap":  # both forked from the worker's warm zygote (PID 2 of its sandbox)
        assert wrote[6] == "2" and read.split("PPID ")[1].split()[0] == "2", (wrote, read)
    left = [o for o in sysv_objects() if max(o[2], o[3]) >= KERNEL_UID_BASE]
    assert left == []  # nothing of a kernel uid outlives the batch in the host's namespace
