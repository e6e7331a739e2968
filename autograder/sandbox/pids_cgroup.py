"""A pids cgroup per kernel (or per warm zygote): a process-count limit the kernel enforces on
the whole group, whatever uid its processes run as.

RLIMIT_NPROC counts the processes of a uid, so it binds only where the kernel has a uid of its
own that is not root. A pids cgroup binds everywhere the grader may make one: cgroup v1's `pids`
hierarchy, or a cgroup v2 subtree delegated to the grader with the `pids` controller. Where
neither is writable, `PidsCgroup.make` returns None and the caller falls back to RLIMIT_NPROC.

A process joins its group before it runs anything (`join_argv`: a shell writes its own pid to
`cgroup.procs`, then execs the kernel), so every process the kernel forks is counted, and a
process of an unprivileged uid cannot move itself out (`cgroup.procs` files are the grader's).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import time
from pathlib import Path

PREFIX = "autograder-"
_COUNTER = itertools.count()


def _pid_namespace() -> str:
    """This process's PID namespace, as a name part: a group's pid means something only in the
    namespace that made it (another container may share the hierarchy)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "0"


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount point, mount root, fs type, super options) of each cgroup mount of this process."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[4], fields[3], tail[0], tail[2]))
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 path."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _under(mount: str, root: str, path: str) -> Path:
    """The folder of cgroup `path` under a mount whose root is `root`."""
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return Path(mount) / path.lstrip("/")


def candidate_bases() -> list[Path]:
    """Folders under which pids cgroups might be made here: this process's own group in the
    v1 `pids` hierarchy, and its own group in the v2 hierarchy where `pids` is available."""
    own = _own_paths()
    bases = []
    for mount, root, kind, options in _mounts():
        if kind == "cgroup" and "pids" in options.split(",") and "pids" in own:
            bases.append(_under(mount, root, own["pids"]))
        elif kind == "cgroup2" and "" in own:
            base = _under(mount, root, own[""])
            try:
                controllers = (base / "cgroup.controllers").read_text().split()
            except OSError:
                continue
            if "pids" in controllers:
                bases.append(base)
    return bases


def _enable_pids(base: Path) -> bool:
    """cgroup v2: children of `base` get a `pids.max` only once `pids` is in its
    subtree_control (writable where the subtree is delegated to us)."""
    control = base / "cgroup.subtree_control"
    if not control.exists():  # cgroup v1: every group of the hierarchy has pids.max
        return True
    try:
        if "pids" in control.read_text().split():
            return True
        control.write_text("+pids")
        return True
    except OSError:
        return False


@functools.cache
def pids_base() -> Path | None:
    """Where this process can make a pids cgroup (probed once: made, limited, removed), or
    None where it cannot (not root and nothing delegated, no pids controller, read-only)."""
    for base in candidate_bases():
        if _enable_pids(base) and _can_limit(base):
            remove_orphaned(base)
            return base
    return None


def _can_limit(base: Path) -> bool:
    """A group made under `base` takes a `pids.max` (the probe group is removed again)."""
    probe = base / f"{PREFIX}probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    try:
        (probe / "pids.max").write_text("1")
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


def remove_orphaned(base: Path) -> int:
    """Remove the groups under `base` that a grading process of this PID namespace, now gone,
    made (it was killed before it could): whatever still runs in one is killed first. Returns
    how many went."""
    removed = 0
    namespace = _pid_namespace()
    for path in base.glob(f"{PREFIX}*"):
        owner, _, rest = path.name[len(PREFIX):].partition("-")
        if (owner.isdigit() and rest.split("-")[0] == namespace
                and not Path(f"/proc/{owner}").exists()):
            removed += PidsCgroup(path).remove(seconds=0.5)
    return removed


class PidsCgroup:
    """One pids cgroup: made with a limit, joined by a process before it starts the kernel,
    emptied (every process in it killed) and removed after the notebook."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def make(cls, max_tasks: int) -> PidsCgroup | None:
        """A fresh group allowing `max_tasks` processes and threads, or None where this
        process cannot make one (then RLIMIT_NPROC is the limit)."""
        base = pids_base()
        if base is None:
            return None
        path = base / f"{PREFIX}{os.getpid()}-{_pid_namespace()}-{next(_COUNTER)}"
        try:
            path.mkdir()
        except OSError:
            return None
        group = cls(path)
        try:
            group.set_max(max_tasks)
        except OSError:
            group.remove()
            return None
        return group

    def join_argv(self, argv: list[str]) -> list[str]:
        """`argv`, run by a process that first moves itself into this group (as the grader's
        uid, before any limit or uid switch in `argv`)."""
        return ["/bin/sh", "-c", 'echo 0 > "$0" && exec "$@"', str(self.path / "cgroup.procs"),
                *argv]

    def set_max(self, max_tasks: int) -> None:
        (self.path / "pids.max").write_text(str(max_tasks))

    def current(self) -> int:
        """Processes and threads in the group now."""
        try:
            return int((self.path / "pids.current").read_text())
        except (OSError, ValueError):
            return 0

    def refused(self) -> int:
        """How many forks (or new threads) the limit has refused so far."""
        try:
            for line in (self.path / "pids.events").read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self, seconds: float = 5.0) -> int:
        """Kill every process in the group (a fork storm cannot outgrow it: the limit holds
        while it is killed). Returns how many were left after `seconds` (0 normally)."""
        kill_file = self.path / "cgroup.kill"  # cgroup v2 (Linux 5.14+): all at once
        if kill_file.exists():
            try:
                kill_file.write_text("1")
            except OSError:
                pass
        from autograder.sandbox.runtime import kill_until_gone

        return kill_until_gone(self.pids, seconds, pause=0.005)

    def remove(self, seconds: float = 2.0) -> bool:
        """Kill what is in the group and remove it; True once it is gone."""
        self.kill()
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                self.kill(0)
                time.sleep(0.01)
