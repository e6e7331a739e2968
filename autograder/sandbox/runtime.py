"""A kernel's runtime folder on the host: made fresh per notebook, handed to the kernel's uid
only while the kernel binds its sockets, then sealed, and removed without following links.

The folder holds the connection file and the IPC sockets; the kernel needs to create its
sockets there and nothing else. So it belongs to the kernel's uid until the kernel answers
(before any student code runs), then to the grader again (mode 0711 or 0700): student code
can neither add a file to the grader's disk there nor swap the folder for a link (its parent
is the grader's and not writable for the kernel). Removal never follows a link the kernel
could have planted: a link is unlinked, a folder is removed with file descriptors
(`shutil.rmtree` on Linux), never by path through a link.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path

# Where kernel runtime folders go when the grader's temporary folder cannot be reached by the
# kernel uid (a 0700 per-user or per-job TMPDIR): the system's shared temporary folders.
SHARED_TEMP = (Path("/tmp"), Path("/var/tmp"))


class GraderFault(RuntimeError):
    """The grader, not a submission, is at fault (kernels cannot start, no runtime folder, the
    sandbox cannot be set up): grading stops before a student is blamed; the message says what
    to fix."""


def reachable(folder: Path, uid: int | None) -> bool:
    """Whether a process of `uid` (no groups; never the owner of the grader's folders) can
    traverse every folder from / down to `folder`. None: the grader's own uid (always)."""
    if uid is None:
        return True
    for path in [*reversed(Path(folder).parents), Path(folder)]:
        try:
            info = os.stat(path)
        except OSError:
            return False
        if info.st_uid != uid and not info.st_mode & 0o001:
            return False
    return True


def runtime_base(uid: int | None) -> Path:
    """The folder kernel runtime folders are made in, without bwrap: the grader's temporary
    folder ($TMPDIR) if the kernel uid can reach it, else the first shared one it can reach.
    With bwrap the runtime folder is bound into the sandbox and any $TMPDIR serves."""
    mine = Path(tempfile.gettempdir())
    for folder in (mine, *SHARED_TEMP):
        if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) and reachable(folder, uid):
            return folder
    raise GraderFault(
        f"no temporary folder the kernel uid {uid} can reach: TMPDIR={mine} (or a folder above "
        f"it) is closed to other users and {', '.join(map(str, SHARED_TEMP))} are missing or "
        "closed; set TMPDIR to a folder every user may traverse (mode 0711 or 0755 all the way "
        "down, e.g. /tmp) and grade again")


def hand_to(folder: Path, files: list[Path], uid: int | None) -> None:
    """Give `folder` (and `files` in it) to the kernel's uid while it starts."""
    if uid is None:
        return
    for path in [folder, *files]:
        if path.exists() and not path.is_symlink():
            os.chown(path, uid, uid, follow_symlinks=False)


def seal(folder: Path, traversable: bool = False) -> None:
    """Take `folder` back from the kernel once its sockets are bound: the grader's, 0700
    (0711 where the kernel reaches its scratch folder inside by path)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        os.fchown(fd, os.geteuid(), os.getegid())
        os.fchmod(fd, 0o711 if traversable else 0o700)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove `path`; a link is removed itself, never what it points to."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    if not shutil.rmtree.avoids_symlink_attacks:  # pragma: no cover (not Linux)
        raise RuntimeError("refusing to remove a kernel folder on a platform where rmtree "
                           "could follow a planted link")
    shutil.rmtree(path, ignore_errors=True)


def kill_uid(uid: int | None, seconds: float = 5.0) -> int:
    """Kill every process of `uid` (a worker's own kernel uid: nothing else runs as it), as
    the no-bwrap path must after each notebook (no PID namespace takes them along). Returns how
    many were left (0 unless they could not be killed in `seconds`)."""
    if uid is None:
        return 0
    return kill_until_gone(lambda: uid_pids(uid), seconds, pause=0.01)


def kill_until_gone(processes, seconds: float, pause: float) -> int:
    """SIGKILL every pid `processes()` lists, again every `pause` s, until it lists none or
    `seconds` have passed (a fork storm may add some while it is killed). Returns how many were
    left."""
    deadline = time.monotonic() + seconds
    while True:
        left = processes()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not left or time.monotonic() > deadline:
            return len(left)
        time.sleep(pause)


def uid_pids(uid: int) -> list[int]:
    """The processes running as `uid` (the owner of their /proc entry: the effective uid)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def uid_tasks(uid: int) -> int:
    """Processes and threads whose real uid is `uid` (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        try:
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (KeyError, ValueError, IndexError):
            continue
    return count


PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Make this process the subreaper of what it starts: a process a kernel forked and left
    behind (whatever session or group it moved to) is re-parented here, not to init, so
    `kill_adopted` can find it where no uid or cgroup of the kernel's own tells it apart."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def children() -> set[int]:
    """This process's child processes."""
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                tail = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(tail) > 1 and tail[1] == str(me):
            found.add(int(entry))
    return found


def kill_adopted(known: set[int], seconds: float = 5.0) -> int:
    """Kill (and reap) every child of this subreaper but `known`: what a kernel left running.
    Each one killed may hand its own children to us; repeat until none is left or `seconds`
    pass. Returns how many were left."""
    deadline = time.monotonic() + seconds
    while True:
        left = children() - known
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in left:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        if not left or time.monotonic() > deadline:
            return len(left)
