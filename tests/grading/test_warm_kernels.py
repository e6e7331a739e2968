"""Kernels forked from the warm zygote: each notebook still gets a fresh, isolated kernel.

Every test runs real kernels through nbclient, as grading does, one after another in one zygote.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from autograder.course import REPO_ROOT
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.sandbox import warm_kernels
from autograder.sandbox.kernel_manager import SandboxedKernelManager
from autograder.sandbox.policy import Limits, Sandbox, bwrap_works, default_hidden
from tests.grading.fixture_course import (
    ASSIGNMENT,
    CUBE,
    FULL_MARKS,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.skipif(not bwrap_works(), reason="zygotes need bwrap"),
              pytest.mark.xdist_group("warm-kernels")]


@pytest.fixture()
def sandbox(tmp_path):
    box = Sandbox(hidden=default_hidden(REPO_ROOT, tmp_path / "work"))
    yield box
    zygote = warm_kernels._ZYGOTE["zygote"]
    if zygote is not None:
        zygote.close()
        warm_kernels._ZYGOTE["zygote"] = None


def run(sandbox: Sandbox, *sources: str) -> tuple[list[str], SandboxedKernelManager]:
    """Run cells in one fresh kernel; return what each printed (errors as 'ERROR name')."""
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    km = SandboxedKernelManager(kernel_name="python3", sandbox=sandbox)
    client = NotebookClient(nb, km=km, timeout=20, allow_errors=True,
                            shutdown_kernel="immediate")
    try:
        client.execute()
    finally:
        km.remove_runtime()
    printed = []
    for cell in nb.cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        errors = [f"ERROR {o.ename}" for o in cell.outputs if o.output_type == "error"]
        printed.append((text + " ".join(errors)).strip())
    return printed, km


def test_kernels_come_from_one_zygote_and_start_without_importing(sandbox):
    first, km1 = run(sandbox, "import sys; print('numpy' in sys.modules, 'coursekit.checks' "
                              "in sys.modules)")
    second, km2 = run(sandbox, "import os; print(os.getpid())")
    assert km1.zygote is not None and km1.zygote is km2.zygote
    assert first == ["True True"]
    draws = [run(sandbox, "import numpy\nprint(numpy.random.rand())")[0]
             for _ in range(2)]
    assert draws[0] != draws[1]  # unseeded draws differ from kernel to kernel, as fresh ones
    assert int(second[0]) > 2  # a forked child inside the zygote's PID namespace


def test_nothing_a_notebook_started_or_wrote_reaches_the_next(sandbox):
    plant = ("import os, subprocess, numpy\n"
             "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
             "if os.fork() == 0:\n"
             "    os.setsid()\n"
             "    if os.fork() == 0:\n"
             "        import time; time.sleep(300)\n"
             "    os._exit(0)\n"
             "open('/tmp/left-behind', 'w').write('answers')\n"
             "open('/dev/shm/left-behind', 'w').write('answers')\n"
             "open(os.path.expanduser('~/left-behind'), 'w').write('answers')\n"
             "numpy.allclose = lambda *a, **k: True\n"
             "print(os.path.expanduser('~'))")
    first, _ = run(sandbox, plant)
    look = ("import os, numpy\n"
            "me = os.getpid()\n"
            "others = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) not in "
            "(1, os.getppid(), me)]\n"
            "print(sorted(open(f'/proc/{p}/cmdline').read().replace(chr(0), ' ') for p in "
            "others))\n"
            "print(os.path.exists('/tmp/left-behind'), os.path.exists('/dev/shm/left-behind'))\n"
            f"print(os.path.exists({first[0] + '/left-behind'!r}))\n"
            "print(numpy.allclose(1, 2))")
    second, _ = run(sandbox, look)
    assert second == ["[]\nFalse False\nFalse\nFalse"]


def test_a_kernel_cannot_reach_into_the_zygote(sandbox):
    probe = ("import os\n"
             "zygote = os.getppid()\n"
             "for what in (f'/proc/{zygote}/mem', f'/proc/{zygote}/fd/0'):\n"
             "    try:\n"
             "        open(what, 'rb').close(); print('opened', what)\n"
             "    except OSError as exc:\n"
             "        print(type(exc).__name__)\n"
             "import ctypes\n"
             "print(ctypes.CDLL(None).ptrace(16, zygote, 0, 0))")  # PTRACE_ATTACH
    printed, _ = run(sandbox, probe)
    assert printed == ["PermissionError\nPermissionError\n-1"]


def test_a_kernel_that_kills_its_zygote_ends_only_its_own_notebook(sandbox):
    if sandbox.kernel_user() is not None:  # the kernel's own uid: it cannot signal the zygote
        printed, km1 = run(sandbox, "import os, signal\ntry:\n"
                                    "    os.kill(os.getppid(), signal.SIGKILL)\n"
                                    "except OSError as exc:\n    print(type(exc).__name__)")
        assert printed == ["PermissionError"]
        printed, km2 = run(sandbox, "print(6 * 7)")
        assert printed == ["42"] and km2.zygote is km1.zygote
        return
    with pytest.raises((DeadKernelError, CellExecutionError, RuntimeError)):
        run(sandbox, "import os, signal; os.kill(os.getppid(), signal.SIGKILL)\n"
                     "import time; time.sleep(30)")
    printed, km = run(sandbox, "print(6 * 7)")
    assert printed == ["42"] and km.zygote is not None


def test_a_stopped_zygote_is_replaced(sandbox, monkeypatch):
    monkeypatch.setattr(warm_kernels, "REPLY_SECONDS", 2)
    if sandbox.kernel_user() is not None:  # only the grader can stop it: do that here
        _, km1 = run(sandbox, "print(1)")
        inner = subprocess.run(["pgrep", "-f", "-P", str(km1.zygote.process.pid)],
                               capture_output=True, text=True, timeout=30).stdout.split()
        for pid in inner:  # bwrap's init in the sandbox; its child is the zygote
            for child in subprocess.run(["pgrep", "-P", pid], capture_output=True,
                                        text=True, timeout=30).stdout.split():
                os.kill(int(child), signal.SIGSTOP)
    else:
        _, km1 = run(sandbox, "import os, signal; os.kill(os.getppid(), signal.SIGSTOP)")
    printed, km2 = run(sandbox, "print(6 * 7)")
    assert printed == ["42"] and km2.zygote is not km1.zygote


def test_kernel_limits_apply_to_forked_kernels(sandbox):
    printed, _ = run(sandbox, "import resource\n"
                              "print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20, "
                              "resource.getrlimit(resource.RLIMIT_CPU)[0])",
                     "x = bytearray(2 * 1024 ** 3)")
    assert printed == [f"{sandbox.limits.memory_mb} {sandbox.limits.cpu_seconds}",
                       "ERROR MemoryError"]


def test_the_zygote_refuses_to_run_outside_its_own_pid_namespace():
    script = Path(warm_kernels.__file__).with_name("zygote.py")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2 and "own PID namespace" in done.stderr


def test_a_forked_worker_starts_its_own_zygote(sandbox):
    _, km = run(sandbox, "pass")
    parent = km.zygote
    pid = os.fork()
    if pid == 0:  # the child: a pool worker would be here
        code = 1
        try:
            inherited = warm_kernels._ZYGOTE["zygote"]
            own = warm_kernels.zygote_for(sandbox)
            code = 0 if inherited is None and own is not None and own.runtime != parent.runtime \
                else 1
            own.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    printed, km2 = run(sandbox, "print(6 * 7)")  # the parent's zygote is untouched
    assert printed == ["42"] and km2.zygote is parent


def test_workers_forked_after_kernels_ran_in_the_parent_grade_normally(sandbox, tmp_path):
    run(sandbox, "pass")  # the parent now has an event loop and a zygote of its own
    root = make_course(tmp_path / "course")
    subs = tmp_path / "submissions"
    for student in ("ada", "bob", "cy"):
        write_submission(subs, student, fill(root, square=SQUARE, cube=CUBE))
    rows = grade_batch(subs, BatchOptions(root=root, work=root / "work", workers=2,
                                          require_sandbox=True, progress=False,
                                          assignments=[ASSIGNMENT],
                                          limits=Limits(cell_timeout=10, wall_clock=60)))
    assert [(r.score, r.outcome.kind) for r in rows] == [(FULL_MARKS, "graded")] * 3


def _zygote_host_pid(outer: int) -> int:
    """The zygote's PID as the host sees it: a descendant of the bwrap process `outer`."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(status.split("PPid:")[1].split()[0])
            program = cmdline.split(b"\0")[0]  # bwrap's own processes carry the same argv
            parents[int(entry.name)] = (ppid, b"The kernel zygote" in cmdline
                                        and b"python" in Path(program.decode()).name.encode())
    for pid, (_, is_zygote) in parents.items():
        ancestor = pid
        while is_zygote and ancestor in parents:
            ancestor = parents[ancestor][0]
            if ancestor == outer:
                return pid
    raise AssertionError("no zygote under the sandbox process")


def test_a_zygote_that_stopped_answering_is_replaced_before_the_next_notebook(sandbox):
    _, km = run(sandbox, "pass")
    os.kill(_zygote_host_pid(km.zygote.process.pid), signal.SIGSTOP)
    printed, km2 = run(sandbox, "print(6 * 7)")
    assert printed == ["42"] and km2.zygote is not km.zygote


def test_a_kernel_can_write_only_its_scratch_quota_and_not_to_the_graders_disk(tmp_path):
    box = Sandbox(hidden=default_hidden(REPO_ROOT, tmp_path / "work"),
                  limits=Limits(scratch_mb=8))
    for warm in (True, False):
        box.warm_kernels = warm
        try:
            printed, km = run(box, "import os\nprint(os.getcwd(), os.environ['HOME'])\n"
                                   "block = b'x' * 1024 * 1024\n"
                                   "for name in ('scratch-1', '/tmp/t-1', '/dev/shm/s-1'):\n"
                                   "    with open(name, 'wb') as f:\n"
                                   "        for _ in range(12):\n"
                                   "            f.write(block)\n")
        finally:
            if warm and warm_kernels._ZYGOTE["zygote"] is not None:
                warm_kernels._ZYGOTE["zygote"].close()
                warm_kernels._ZYGOTE["zygote"] = None
        where, home = printed[0].split()[:2]
        assert where == home == "/tmp/scratch", printed
        assert "ERROR OSError" in printed[0], printed  # No space left on device, at 8 MB
        assert not km.runtime_dir.exists()
