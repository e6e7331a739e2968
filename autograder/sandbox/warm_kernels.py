"""Warm kernels: the worker's side of the kernel zygote (`autograder.sandbox.zygote`).

Each worker process keeps one zygote: a sandboxed process that has imported ipykernel, numpy,
matplotlib and coursekit once and forks a fresh kernel per notebook, instead of starting Python
and importing all of it again (about a second of CPU per notebook). `ForkedKernel` stands in for
the `Popen` object jupyter_client's provisioner expects, so nbclient drives a forked kernel like
any other. After each notebook the zygote kills everything the submission started and wipes the
scratch space; a zygote that stops answering is killed with its whole sandbox and replaced.

Zygotes are used only where bwrap isolates kernels (the zygote needs its own PID namespace);
otherwise kernels start the classic way, one process each. Where the grader may make a pids
cgroup, the zygote's whole sandbox runs in one of its own, allowing `Limits.processes` beyond
what the idle zygote runs: each kernel it forks (one at a time) is bound by it.
"""

from __future__ import annotations

import json
import multiprocessing.util
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.sandbox.pids_cgroup import PidsCgroup
from autograder.sandbox.policy import Sandbox, kernel_environment
from autograder.sandbox.runtime import remove_tree

WARM_UP_SECONDS = 60
SPAWN_SECONDS = 40  # the zygote answers once the kernel's sockets are bound (or in 30 s)
REPLY_SECONDS = 10
PING_SECONDS = 2
GIVE_UP_AFTER = 2  # failed starts in one process before falling back to classic kernels
WARM_UP_TASKS = 16  # what the zygote's cgroup allows it while it starts (bwrap, init, Python)


class ZygoteGone(RuntimeError):
    """The zygote died, stopped answering or could not start."""


class ZygoteUnsuitable(ZygoteGone):
    """The zygote cannot give each kernel an IPC namespace of its own (no CAP_SYS_ADMIN in its
    sandbox, as for a grader that is not root): kernels start anew, each in its own bwrap."""


class ZygoteClient:
    """One sandboxed zygote process and the folder bound into its sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.runtime = Path(tempfile.mkdtemp(prefix="autograder-zygote-"))
        # traversable, not listable or writable: each kernel uid reaches only its own folder
        os.chmod(self.runtime, 0o711)
        self.cgroup = (PidsCgroup.make(sandbox.limits.processes + WARM_UP_TASKS)
                       if sandbox.pids_cgroup else None)
        argv = sandbox.zygote_argv(self.runtime, cgroup=self.cgroup is not None)
        if self.cgroup is not None:
            argv = self.cgroup.join_argv(argv)
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1)
        reply = self._read(WARM_UP_SECONDS)
        if not reply.get("ready"):
            self.close()
            raise ZygoteGone(reply.get("error", "the zygote did not start"))
        if not reply.get("own_ipc"):
            self.close()
            raise ZygoteUnsuitable("the zygote cannot give each kernel its own IPC namespace")
        if self.cgroup is not None:  # the idle zygote's own tasks, plus one kernel's allowance
            self.cgroup.set_max(self.cgroup.current() + sandbox.limits.processes)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def request(self, message: dict, seconds: float = REPLY_SECONDS) -> dict:
        if not self.alive:
            raise ZygoteGone("the zygote has exited")
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except OSError as exc:
            self.close()
            raise ZygoteGone(f"the zygote stopped reading ({exc})") from exc
        return self._read(seconds)

    def _read(self, seconds: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], seconds)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise ZygoteGone("the zygote did not answer" if not ready else "the zygote exited")
        return json.loads(line)

    def kernel_folder(self) -> Path:
        """A fresh folder for one kernel (connection file, sockets, scratch)."""
        return Path(tempfile.mkdtemp(prefix="kernel-", dir=self.runtime))

    def spawn(self, connection_file: str, scratch: Path, limits: dict[str, int],
              uid: int | None = None) -> ForkedKernel:
        reply = self.request({"spawn": {"connection_file": connection_file, "cwd": str(scratch),
                                        "env": kernel_environment(scratch), "limits": limits,
                                        "uid": uid}},
                             SPAWN_SECONDS)
        return ForkedKernel(self, reply["pid"])

    def clean(self) -> None:
        """After a notebook: kill whatever it started, wipe its scratch; close if that fails.
        (The kernel's folder itself is the kernel manager's to remove.)"""
        try:
            if not self.request({"clean": {"keep": str(self.runtime)}}).get("ok"):
                self.close()
        except ZygoteGone:
            pass

    def close(self) -> None:
        """Kill the sandbox (bwrap takes every process inside with it) and remove the folder."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.process = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        remove_tree(self.runtime)


class ForkedKernel:
    """What jupyter_client's LocalProvisioner needs of a `Popen`, for a kernel the zygote forked.

    `pid` is the kernel's PID inside the sandbox; signals go through the zygote.
    """

    stdin = stdout = stderr = None

    def __init__(self, zygote: ZygoteClient, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.zygote.request({"poll": self.pid})["exit"]
            except ZygoteGone:
                self.returncode = -signal.SIGKILL  # the sandbox is gone, and the kernel with it
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked kernel", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                self.zygote.request({"signal": [self.pid, int(signum)]})
            except ZygoteGone:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_ZYGOTE: dict = {"zygote": None, "failures": 0}


def _forget_parent_zygote() -> None:
    """In a forked child (a pool worker): the parent's zygote is the parent's. Forget it without
    touching it, so the child starts a zygote of its own. Its pipe objects are kept, not closed:
    closing them here, or letting them be collected later, could close a descriptor number the
    child has since reused."""
    zygote = _ZYGOTE["zygote"]
    if zygote is not None:
        _INHERITED.append(zygote.process)
        zygote.process = None  # close() would otherwise kill the parent's sandbox
        zygote.cgroup = None  # (and empty its cgroup)
        zygote.runtime = Path("/nonexistent")
    _ZYGOTE.update(zygote=None, failures=0)


_INHERITED: list = []
os.register_at_fork(after_in_child=_forget_parent_zygote)


def zygote_for(sandbox: Sandbox) -> ZygoteClient | None:
    """This process's live zygote for `sandbox`, started on first use; None where kernels
    must start the classic way (no bwrap isolation, or zygotes keep failing here)."""
    if not sandbox.isolated or not sandbox.warm_kernels or _ZYGOTE["failures"] >= GIVE_UP_AFTER:
        return None
    zygote = _ZYGOTE["zygote"]
    if zygote is not None and zygote.alive and zygote.sandbox == sandbox:
        try:  # answering, not just alive: a kernel may have stopped it
            zygote.request({"ping": None}, PING_SECONDS)
            return zygote
        except ZygoteGone:
            pass
    if zygote is not None:
        zygote.close()
    try:
        zygote = ZygoteClient(sandbox)
    except ZygoteUnsuitable:  # never here: one bwrap per kernel keeps kernels apart instead
        _ZYGOTE.update(zygote=None, failures=GIVE_UP_AFTER)
        return None
    except (ZygoteGone, OSError) as exc:
        _ZYGOTE["failures"] += 1
        _ZYGOTE["zygote"] = None
        if _ZYGOTE["failures"] == GIVE_UP_AFTER:
            print(f"warning: kernel zygote failed ({exc}); starting each kernel anew instead",
                  file=sys.stderr)
        return None
    _ZYGOTE["zygote"] = zygote
    multiprocessing.util.Finalize(zygote, zygote.close, exitpriority=10)  # worker exit
    return zygote



def discard_zygote() -> None:
    """Close this process's zygote (if any): the next kernel starts in a fresh sandbox."""
    zygote = _ZYGOTE["zygote"]
    _ZYGOTE["zygote"] = None
    if zygote is not None:
        zygote.close()
