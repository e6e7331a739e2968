"""IPC objects a kernel leaves in the host's IPC namespace, where bwrap cannot give it its own.

With bwrap every kernel has an IPC namespace of its own (its own bwrap's `--unshare-ipc`, or
the zygote's unshare per forked kernel), and what it made dies with it. Without bwrap a kernel
shares the host's: SysV shared memory, semaphore sets and message queues outlive it (and the
grader), and so do POSIX message queues. `remove_ipc` removes those a uid made after its kernel
stopped: SysV objects whose owner or creator is that uid (read from /proc/sysvipc), and the
uid's POSIX message queues (from the mqueue file system, where the host mounts it).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

SYSVIPC = Path("/proc/sysvipc")
MQUEUE = Path("/dev/mqueue")
IPC_RMID = 0


def sysv_objects() -> list[tuple[str, int, int, int]]:
    """(kind: shm | sem | msg, id, owner uid, creator uid) of every SysV IPC object."""
    found = []
    for kind, id_field in (("shm", "shmid"), ("sem", "semid"), ("msg", "msqid")):
        try:
            lines = (SYSVIPC / kind).read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split()))
            try:
                found.append((kind, int(row[id_field]), int(row["uid"]), int(row["cuid"])))
            except (KeyError, ValueError):
                continue
    return found


def posix_queues(uid: int) -> list[str]:
    """Names of the POSIX message queues `uid` owns (empty where mqueue is not mounted)."""
    try:
        entries = list(os.scandir(MQUEUE))
    except OSError:
        return []
    names = []
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid == uid:
                names.append(entry.name)
        except OSError:
            continue
    return names


def snapshot(uid: int) -> set:
    """What `uid` owns now, to keep when its kernel's objects are removed (a grader that is not
    root shares its uid with its kernels)."""
    return ({(kind, ident) for kind, ident, owner, creator in sysv_objects()
             if uid in (owner, creator)} | {("mq", name) for name in posix_queues(uid)})


def remove_ipc(uid: int, keep: set | frozenset = frozenset()) -> list[str]:
    """Remove every IPC object `uid` owns or created but those in `keep`; return what could not
    be removed (kind and id)."""
    libc = ctypes.CDLL(None, use_errno=True)
    left = []
    for kind, ident, owner, creator in sysv_objects():
        if uid not in (owner, creator) or (kind, ident) in keep:
            continue
        if kind == "shm":
            done = libc.shmctl(ident, IPC_RMID, None)
        elif kind == "sem":
            done = libc.semctl(ident, 0, IPC_RMID)
        else:
            done = libc.msgctl(ident, IPC_RMID, None)
        if done != 0 and ctypes.get_errno() not in (22, 43):  # EINVAL, EIDRM: gone already
            left.append(f"{kind} {ident}")
    for name in posix_queues(uid):
        if ("mq", name) in keep:
            continue
        try:
            os.unlink(MQUEUE / name)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(f"mq {name}")
    return left
