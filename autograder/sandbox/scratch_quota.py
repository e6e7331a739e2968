"""What a kernel may write to the host's disk where bwrap cannot give it a size-limited tmpfs.

Without bwrap the kernel writes to the host's filesystems: its scratch folder (working
directory, $HOME, $TMPDIR) and every folder other uids may write to and reach. Those are found
by a scan of the host (`writable_folders`: world-writable folders whose path every uid may
traverse; /tmp, /var/tmp, /dev/shm, /run/lock, ... whatever this machine has), not from a list.
RLIMIT_FSIZE bounds each file; `QuotaWatch` bounds the sum: it measures, a few times a second,
the space its scratch folder, the kernel uid's files in the writable folders and the deleted
files its processes still hold open take, and stops the kernel once that passes the quota (the
notebook's named error says so). After the notebook, `remove_owned` deletes every file the
kernel uid left in those folders, never following a link.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

WORLD_WRITABLE = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))  # where a scan cannot run
PERIOD = 0.1  # seconds between two measurements
NOT_FILES = ("/proc", "/sys")  # kernel interfaces, not storage
_WRITABLE: dict[str, tuple[Path, ...]] = {}


def writable_folders() -> tuple[Path, ...]:
    """The topmost folders of this machine any uid may write to and reach (world-writable, every
    folder above them world-traversable), found once per process by a scan of the host with
    find(1) (about a second); `WORLD_WRITABLE` where find cannot run."""
    if "found" not in _WRITABLE:
        find = shutil.which("find")
        found: list[Path] = []
        if find:
            prune = ["("] + [x for path in NOT_FILES for x in ("-path", path, "-o")][:-1] + [")"]
            argv = [find, "/", *prune, "-prune", "-o", "-type", "d", "!", "-perm", "-0001",
                    "-prune", "-o", "-type", "d", "-perm", "-0002", "-print", "-prune"]
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
                found = [Path(line) for line in done.stdout.splitlines() if line]
            except (OSError, subprocess.SubprocessError):
                found = []
        _WRITABLE["found"] = tuple(sorted(found)) or WORLD_WRITABLE
    return _WRITABLE["found"]


def _used(info: os.stat_result) -> int:
    """Bytes a file takes on its filesystem (a sparse file takes only what it wrote)."""
    return info.st_blocks * 512


@contextlib.contextmanager
def _open_folder(path, dir_fd: int | None = None) -> Iterator[int | None]:
    """The folder `path` (a name in the folder open as `dir_fd`, if given), open without
    following a link; None if it is a link, gone or no folder."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _entries(folder_fd: int) -> Iterator[tuple[os.DirEntry, os.stat_result]]:
    """Each entry of the folder open as `folder_fd`, with its own (never a link's target's)
    stat; entries gone meanwhile are left out."""
    try:
        entries = list(os.scandir(folder_fd))
    except OSError:
        return
    for entry in entries:
        try:
            yield entry, entry.stat(follow_symlinks=False)
        except OSError:
            continue


def tree_bytes(folder_fd: int, uid: int | None = None, depth: int = 0) -> int:
    """Space taken by what is in the folder open as `folder_fd` (only `uid`'s entries, and the
    world-writable folders of others, when `uid` is given); links are counted, never
    followed."""
    total = 0
    for entry, info in _entries(folder_fd):
        mine = uid is None or info.st_uid == uid
        if mine:
            total += _used(info)
        if stat.S_ISDIR(info.st_mode) and depth < 64 and (mine or info.st_mode & 0o002):
            with _open_folder(entry.name, folder_fd) as fd:
                if fd is not None:
                    total += tree_bytes(fd, None if mine else uid, depth + 1)
    return total


def folder_bytes(folder: Path, uid: int | None = None) -> int:
    """`tree_bytes` of `folder` (0 if it is a link or gone)."""
    with _open_folder(folder) as fd:
        return 0 if fd is None else tree_bytes(fd, uid)


def held_open_bytes(pids: list[int]) -> int:
    """Space taken by deleted regular files that the processes `pids` still hold open."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            key = (info.st_dev, info.st_ino)
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 0 and key not in seen:
                seen.add(key)
                total += _used(info)
    return total


def written_bytes(scratch: Path, uid: int | None, pids: list[int],
                  tops: tuple[Path, ...] = WORLD_WRITABLE) -> int:
    """What a kernel has written: its scratch folder, `uid`'s files in the writable folders
    `tops` (only where the kernel has a uid of its own), and deleted files it holds open."""
    total = folder_bytes(scratch)
    if uid is not None:
        total += sum(folder_bytes(top, uid) for top in tops)
    return total + held_open_bytes(pids)


class QuotaWatch:
    """Measures what a kernel wrote every `PERIOD` seconds, on a thread of its own; calls
    `stop_kernel` once (and sets `exceeded`) when it passes `quota` bytes."""

    def __init__(self, scratch: Path, uid: int | None, quota: int,
                 pids: Callable[[], list[int]], stop_kernel: Callable[[], object],
                 tops: tuple[Path, ...] = WORLD_WRITABLE) -> None:
        self.scratch, self.uid, self.quota, self.tops = scratch, uid, quota, tops
        self.pids, self.stop_kernel = pids, stop_kernel
        self.exceeded = False
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="scratch-quota", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(PERIOD):
            used = written_bytes(self.scratch, self.uid, self.pids(), self.tops)
            self.peak = max(self.peak, used)
            if used > self.quota:
                self.exceeded = True
                self.stop_kernel()
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def remove_owned(uid: int, tops: tuple[Path, ...] = WORLD_WRITABLE) -> int:
    """Delete every entry `uid` owns in `tops` (and in world-writable folders below them),
    through folder descriptors: a link is removed itself, never followed. Returns how many
    entries were removed. Call it once nothing of `uid` runs any more."""
    removed = 0

    def clean(folder_fd: int, depth: int) -> None:
        nonlocal removed
        for entry, info in _entries(folder_fd):
            if info.st_uid == uid:
                try:
                    if stat.S_ISDIR(info.st_mode):
                        shutil.rmtree(entry.name, dir_fd=folder_fd)
                    else:
                        os.unlink(entry.name, dir_fd=folder_fd)
                    removed += 1
                except OSError:
                    pass
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002 and depth < 64:
                with _open_folder(entry.name, folder_fd) as fd:
                    if fd is not None:
                        clean(fd, depth + 1)

    for top in tops:
        with _open_folder(top) as fd:
            if fd is not None:
                clean(fd, 0)
    return removed
