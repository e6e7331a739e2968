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
import time
from pathlib import Path


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
    deadline = time.monotonic() + seconds
    while True:
        left = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    left.append(int(entry))
            except OSError:
                continue
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not left or time.monotonic() > deadline:
            return len(left)
        time.sleep(0.01)
