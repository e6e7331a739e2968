"""The kernel manager and client nbclient drives: a kernel in a `Sandbox`, over IPC sockets."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any as AnyTrait
from traitlets import default

from autograder.sandbox.ipc_objects import remove_ipc, snapshot
from autograder.sandbox.kernel_client import BoundedKernelClient, BoundedSession
from autograder.sandbox.pids_cgroup import PidsCgroup
from autograder.sandbox.runtime import (
    adopt_orphans,
    children,
    hand_to,
    kill_adopted,
    kill_uid,
    remove_tree,
    runtime_base,
    seal,
    uid_pids,
)
from autograder.sandbox.scratch_quota import WORLD_WRITABLE, QuotaWatch, remove_owned
from autograder.sandbox.warm_kernels import zygote_for

BWRAP_TASKS = 2  # what a kernel's own bwrap adds to its cgroup (its monitor and its init)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in a `Sandbox`, talking over IPC sockets.

    Each kernel gets its own runtime folder (connection file, sockets, scratch), removed when
    the kernel is cleaned up, so one submission cannot see another's files. Where bwrap
    isolates kernels, the kernel is forked from this worker's warm zygote
    (`autograder.sandbox.warm_kernels`); elsewhere it is started as a process of its own, in a
    pids cgroup of its own where one can be made.

    Without bwrap, a `QuotaWatch` stops the kernel once it has written more than
    `Limits.scratch_mb` (`quota_exceeded`), and afterwards every process it left is killed (by
    its cgroup, its uid, or as orphans this process adopted) and every file its uid left in
    /tmp, /var/tmp and /dev/shm removed.
    """

    sandbox = AnyTrait(None)

    @default("session")
    def _bounded_session(self) -> BoundedSession:
        """Messages checked for size before they are decoded (`autograder.sandbox.kernel_client`);
        display updates and comm messages get the notebook's output budget."""
        budget = self.sandbox.limits.output_bytes if self.sandbox is not None else 200_000
        return BoundedSession(parent=self, side_budget=budget)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.client_factory = BoundedKernelClient
        self.zygote = zygote_for(self.sandbox)
        if self.zygote is not None:
            self.runtime_dir = self.zygote.kernel_folder()
        else:
            base = runtime_base(self.sandbox.kernel_user())
            self.runtime_dir = Path(tempfile.mkdtemp(prefix="autograder-kernel-", dir=base))
            os.chmod(self.runtime_dir, 0o700)
        self.kernel_uid = self.sandbox.kernel_user()
        self.cgroup = None
        if self.zygote is None and self.sandbox.pids_cgroup:
            extra = BWRAP_TASKS if self.sandbox.isolated else 0
            self.cgroup = PidsCgroup.make(self.sandbox.limits.processes + extra)
        self.cgroup_bound = (self.zygote.cgroup if self.zygote is not None
                             else self.cgroup) is not None
        self.isolation = self.sandbox.isolation_with(self.cgroup_bound)
        self.quota: QuotaWatch | None = None
        self.answered = False  # the kernel answered before any cell ran (`seal_runtime`)
        self.ipc_before: frozenset | set | None = None  # the uid's IPC objects before (no bwrap)
        self.ipc_left: list[str] = []  # IPC objects of the kernel that could not be removed
        self.adopted: set[int] | None = None  # children before the kernel, where we adopt
        self.scratch = self.sandbox.scratch_for(self.runtime_dir)
        if not self.sandbox.isolated:  # inside bwrap the sandbox makes it
            self.scratch.mkdir()
            hand_to(self.scratch, [], self.kernel_uid)
        self.transport = "ipc"
        self.ip = str(self.runtime_dir / "k")
        self.connection_file = str(self.runtime_dir / "kernel.json")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        argv = self.sandbox.kernel_argv(self.runtime_dir, self.scratch, self.cgroup_bound)
        if self.cgroup is not None:
            argv = self.cgroup.join_argv(argv)
        return [a.replace("{connection_file}", self.connection_file) for a in argv]

    @property
    def quota_exceeded(self) -> bool:
        """The kernel was stopped for writing more than its disk quota (no bwrap only)."""
        return self.quota is not None and self.quota.exceeded

    def kernel_pids(self) -> list[int]:
        """The processes of this kernel, where a cgroup or a uid of its own tells them."""
        if self.cgroup is not None:
            return self.cgroup.pids()
        if self.kernel_uid is not None:
            return uid_pids(self.kernel_uid)
        return []

    def kill_everything(self) -> None:
        """Kill every process of the kernel this manager can tell apart (no bwrap)."""
        if self.cgroup is not None:
            self.cgroup.kill()
        kill_uid(self.kernel_uid)
        if self.adopted is not None:
            kill_adopted(self.adopted)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # the kernel's uid may create its sockets here until it answers (`seal_runtime`)
        hand_to(self.runtime_dir, [Path(self.connection_file)], self.kernel_uid)
        if self.zygote is not None:
            provisioner = self.provisioner
            provisioner.process = self.zygote.spawn(self.connection_file, self.scratch,
                                                    self.sandbox.kernel_limits(self.cgroup_bound),
                                                    self.kernel_uid)
            provisioner.pid = provisioner.process.pid
            provisioner.pgid = None  # signals go through the zygote, never to a host group
            self._reconcile_connection_info(provisioner.connection_info)
            return None
        # student code writing to fd 1/2 directly must not reach the grader's terminal
        kw["stdout"] = subprocess.DEVNULL
        kw["stderr"] = subprocess.DEVNULL
        kw["stdin"] = subprocess.DEVNULL
        if not self.sandbox.isolated:
            kw["cwd"] = str(self.scratch)  # as inside bwrap: its scratch, not the grader's cwd
            # the host's IPC namespace: what the kernel's uid owns now is not the kernel's
            self.ipc_before = (frozenset() if self.kernel_uid is not None
                               else snapshot(os.getuid()))
            if self.cgroup is None and self.kernel_uid is None and adopt_orphans():
                self.adopted = children()  # nothing else tells the kernel's processes apart
            launched = await super()._async_launch_kernel(kernel_cmd, **kw)
            self.quota = QuotaWatch(self.scratch, self.kernel_uid,
                                    self.sandbox.limits.scratch_mb * 1024 * 1024,
                                    self.kernel_pids, self._stop_for_quota,
                                    self.sandbox.writable or WORLD_WRITABLE)
            return launched
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    def _stop_for_quota(self) -> None:
        """The quota watch's verdict: kill the kernel (nbclient then sees it die)."""
        self.kill_everything()
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            try:
                process.kill()
            except OSError:
                pass

    async def _async_interrupt_kernel(self) -> None:
        if self.zygote is None and self.sandbox.isolated:
            # A SIGINT to the kernel's process group would reach bwrap, which exits on it (and
            # takes the kernel along): ask the kernel itself, on its control channel.
            self._connect_control_socket()
            self.session.send(self._control_socket,
                              self.session.msg("interrupt_request", content={}))
            return
        await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel

    def seal_runtime(self) -> None:
        """The kernel answered (its sockets exist): its folder is the grader's again, so
        student code cannot add files to it (or swap it: its parent is not writable)."""
        self.answered = True  # it started: whatever happens now happens to a notebook
        seal(self.runtime_dir, traversable=not self.sandbox.isolated)

    def remove_runtime(self) -> None:
        if self.quota is not None:
            self.quota.stop()
        if self.zygote is not None:
            self.zygote.clean()
        elif not self.sandbox.isolated:  # no PID namespace: whatever the notebook started
            self.kill_everything()
            if self.kernel_uid is not None:  # nothing of its uid runs now: no race
                remove_owned(self.kernel_uid, self.sandbox.writable or WORLD_WRITABLE)
            if self.ipc_before is not None:  # nor IPC namespace: what it made there
                uid = self.kernel_uid if self.kernel_uid is not None else os.getuid()
                self.ipc_left = remove_ipc(uid, self.ipc_before)
        if self.cgroup is not None:
            self.cgroup.remove()
        remove_tree(self.runtime_dir)

