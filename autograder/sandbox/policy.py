"""The sandbox policy: what a kernel may see and use (bwrap argv, environment, rlimits, uid).

With bwrap the kernel sees an allow-list, never the host with holes punched in it: read-only
binds of `/usr` (and the `/bin`, `/lib*` links into it), the few `/etc` files the dynamic loader
and the time zone need, the Python installation, the virtualenv and exactly the `coursekit`
folder; a fresh `/dev` and `/proc` (of its own PID namespace), a private size-limited tmpfs for
`/tmp` (its scratch: working directory, $HOME, $TMPDIR) and `/dev/shm`, and the one runtime folder
that holds its connection file and sockets. Nothing else of the host exists inside: no home, no
course or solutions, no work folder, no `/run`, `/var` or host `/tmp`, so no host socket. No
network (`--unshare-net`; the kernel talks over IPC sockets), no SysV IPC, its own PID namespace
(PID 1 is bwrap's init, started with an empty environment), no capabilities.

Where the grader runs as root, the kernel itself runs as an unprivileged uid of its worker's own
(`kernel_uid`). Where bwrap cannot run, the kernel still runs as that uid (via `setpriv`), with a
cleared environment and every rlimit; `Sandbox.isolation` says which of these a run had.

Process count: a pids cgroup per kernel (per warm zygote with bwrap) wherever the grader may
make one (`autograder.sandbox.pids_cgroup`); else RLIMIT_NPROC of the kernel's own uid; else,
for a grader that is not root (the kernel keeps its uid), RLIMIT_NPROC set to the tasks that
uid runs already plus the allowance. Only a root grader that cannot switch uids and has no
cgroup runs kernels with no process limit, and the isolation label says so.

Everywhere: RLIMIT_AS (memory), RLIMIT_CPU (CPU seconds), RLIMIT_FSIZE (largest file written),
no core files, no POSIX message queue (RLIMIT_MSGQUEUE 0), plus a wall clock enforced by the
executor. Every kernel has an IPC namespace of its own with bwrap; without it, what its uid made
in the host's is removed after it (`autograder.sandbox.ipc_objects`). Without bwrap, what the
kernel writes in all is bounded by `Limits.scratch_mb` too (`autograder.sandbox.scratch_quota`).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import REPO_ROOT
from autograder.sandbox.pids_cgroup import pids_base
from autograder.sandbox.runtime import uid_tasks

BWRAP = shutil.which("bwrap") or ("/usr/bin/bwrap" if Path("/usr/bin/bwrap").exists() else None)
PRLIMIT = shutil.which("prlimit") or (
    "/usr/bin/prlimit" if Path("/usr/bin/prlimit").exists() else None
)


SETPRIV = shutil.which("setpriv") or (
    "/usr/bin/setpriv" if Path("/usr/bin/setpriv").exists() else None
)
ENV = "/usr/bin/env" if Path("/usr/bin/env").exists() else "env"

PRLIMIT_FLAGS = {"memory": "as", "cpu": "cpu", "file_size": "fsize", "core": "core",
                 "processes": "nproc", "message_queues": "msgqueue"}

SANDBOX_SCRATCH = Path("/tmp/scratch")  # inside the sandbox only

# Unprivileged uids for kernels: one per worker process (`kernel_uid`), so RLIMIT_NPROC counts
# only that worker's kernel. Far above any uid a system hands out, and never a file's owner.
KERNEL_UID_BASE = 1_700_000_000

# No network (kernels talk over IPC sockets), no SysV IPC shared with the host or other kernels,
# a PID namespace of its own (the host's processes and their environments are not in its /proc),
# a new session (no TIOCSTI into a terminal), and no capabilities: a grader run as root (CI
# containers) would otherwise hand its kernels CAP_SYS_ADMIN.
ISOLATION = ("--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts",
             "--new-session", "--die-with-parent")
# What the zygote keeps (it runs as root inside its sandbox): switching each forked kernel to
# the kernel uid, giving it its scratch folder, killing what a notebook left and wiping it, and
# giving each forked kernel an IPC namespace of its own (unshare(CLONE_NEWIPC) needs
# CAP_SYS_ADMIN); the kernel loses every capability when it switches to its uid.
ZYGOTE_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE",
               "CAP_FOWNER", "CAP_SYS_ADMIN")
# The few files of /etc a kernel needs: the dynamic loader's cache, the local time zone, the
# MIME table and fontconfig's configuration (matplotlib complains on stderr without it).
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/timezone", "/etc/mime.types", "/etc/fonts")
# The environment bwrap itself (PID 1 of the sandbox) runs with: nothing of the grader's.
LAUNCH_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


class SandboxUnavailable(RuntimeError):
    """--require-sandbox was given but bwrap cannot isolate a kernel on this machine."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one notebook's kernel."""

    memory_mb: int = 1024
    cpu_seconds: int = 120
    file_size_mb: int = 16
    cell_timeout: int = 30
    wall_clock: int = 180
    output_bytes: int = 200_000
    # size of each tmpfs a kernel writes to with bwrap (/tmp, its scratch, and /dev/shm); without
    # bwrap, the most it may write in all (scratch folder, /tmp, /var/tmp, /dev/shm)
    scratch_mb: int = 256
    processes: int = 64  # processes and threads of a kernel (a kernel uses about 10)
    notebook_mb: int = 20  # a submitted file larger than this is refused before it runs
    notebook_cells: int = 2_000  # and so is a notebook with more cells than this


def kernel_uid() -> int | None:
    """The uid this worker's kernels run as, or None where the grader cannot switch uids
    (not root): then the kernel keeps the grader's uid (and bwrap's user namespace)."""
    if os.geteuid() != 0:
        return None
    return KERNEL_UID_BASE + os.getpid()


@dataclass
class Sandbox:
    """How kernels are started: what they see, which limits apply, which uid they run as."""

    hidden: list[Path] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    use_bwrap: bool = True
    python: str = sys.executable
    warm_kernels: bool = True  # fork kernels from a warm zygote where bwrap isolates them
    readonly_binds: list[Path] = field(default_factory=lambda: runtime_binds())
    drop_user: bool = True  # run kernels as `kernel_uid()` where the grader is root
    pids_cgroup: bool = True  # bound a kernel's processes by a pids cgroup where one can be made
    # without bwrap: the folders the kernel uid may write to (`scratch_quota.writable_folders`)
    writable: tuple[Path, ...] = ()

    def cgroup_possible(self) -> bool:
        """Whether kernels get a pids cgroup here (the grader may make one)."""
        return self.pids_cgroup and pids_base() is not None

    @property
    def isolated(self) -> bool:
        return self.use_bwrap and BWRAP is not None and bwrap_works()

    def kernel_user(self) -> int | None:
        """The uid kernels run as (None: the grader's own)."""
        if not self.drop_user:
            return None
        uid = kernel_uid()
        if uid is None or (not self.isolated and not unprivileged_python_works(self.python)):
            return None
        return uid

    def unkept_promises(self) -> list[str]:
        """What this sandbox cannot promise a submission's classmates (empty with bwrap, and
        without it where kernels get an unprivileged uid of their own: the masters, .git and
        the work folder are then made private, the quota and cleanup cover every folder that
        uid may write to, its IPC objects are removed)."""
        if self.isolated or self.kernel_user() is not None:
            return []
        if not self.drop_user:
            why = "switching uids is turned off"
        elif os.geteuid() != 0:
            why = "the grader is not root, so it cannot switch kernels to a uid of their own"
        elif not SETPRIV:
            why = "setpriv is missing"
        else:
            why = f"{self.python} cannot run as an unprivileged uid (a private home folder?)"
        return [f"kernels would run as the grader's own uid ({why}): they could read the "
                "masters, .git, the gradebook and other submissions, and what they leave "
                "behind could not be told from the grader's own files"]

    @property
    def isolation(self) -> str:
        """What isolation a kernel of this sandbox gets, as the grade table and CI print it."""
        return self.isolation_with(self.cgroup_possible())

    def isolation_with(self, cgroup: bool) -> str:
        """The isolation label of a kernel that got a pids cgroup (`cgroup`) or did not."""
        user = self.kernel_user()
        who = f"uid {user}" if user is not None else "the grader's uid"
        processes = self.process_limit(cgroup)
        if self.isolated:
            return f"bwrap allow-list, {who}, {processes}, rlimits"
        return (f"no bwrap: {who}, cleared environment, {processes}, rlimits, "
                f"{self.limits.scratch_mb} MB disk quota")

    def process_limit(self, cgroup: bool) -> str:
        """Which limit binds a kernel's process count, as its isolation label says it."""
        allowed = self.limits.processes
        if cgroup:
            return f"pids cgroup ({allowed} processes)"
        if self.kernel_user() is not None:
            return f"RLIMIT_NPROC ({allowed} processes)"
        if os.geteuid() != 0:
            return f"RLIMIT_NPROC (the grader's uid: {allowed} processes over its own)"
        return "no process limit (root, no cgroup)"

    def scratch_for(self, runtime_dir: Path) -> Path:
        """A kernel's working directory, $HOME and $TMPDIR: inside bwrap, a folder of the
        sandbox's own size-limited /tmp (the grader's disk never sees it); without bwrap, a
        folder of the kernel's runtime folder."""
        return SANDBOX_SCRATCH if self.isolated else runtime_dir / "scratch"

    def kernel_argv(self, runtime_dir: Path, scratch: Path, cgroup: bool = False) -> list[str]:
        """The command that starts one kernel; `{connection_file}` is filled in by jupyter."""
        kernel = [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                  "--HistoryManager.hist_file=:memory:"]
        user = self.kernel_user()
        if user is not None and SETPRIV:
            kernel = [SETPRIV, f"--reuid={user}", f"--regid={user}", "--clear-groups",
                      "--", *kernel]
        return self.confine(kernel, runtime_dir, scratch, kernel_environment(scratch),
                            caps=("CAP_SETUID", "CAP_SETGID") if user is not None else (),
                            cgroup=cgroup)

    def zygote_argv(self, runtime_dir: Path, cgroup: bool = False) -> list[str]:
        """The command that starts a kernel zygote (`autograder.sandbox.zygote`) in its own
        sandbox and PID namespace; each kernel it forks sets its own limits and uid."""
        home = runtime_dir / "zygote"
        home.mkdir(exist_ok=True)
        source = (Path(__file__).parent / "zygote.py").read_text()
        caps = ZYGOTE_CAPS if self.kernel_user() is not None else ()
        return self.confine([self.python, "-c", source], runtime_dir, home,
                            kernel_environment(home), cpu_limit=False, caps=caps, cgroup=cgroup)

    def confine(self, command: list[str], runtime_dir: Path, cwd: Path, env: dict[str, str],
                cpu_limit: bool = True, caps: tuple[str, ...] = (),
                cgroup: bool = False) -> list[str]:
        """`command` inside bwrap (when isolated) and under the resource limits, started with
        an empty environment (bwrap is the sandbox's PID 1: its environment must hold nothing
        of the grader's). `cgroup`: a pids cgroup bounds its processes (no RLIMIT_NPROC)."""
        if self.isolated:
            size = str(self.limits.scratch_mb * 1024 * 1024)
            # the scratch tmpfs first: a checkout (its venv, coursekit) may live under /tmp,
            # and a tmpfs mounted after its binds would hide them
            argv = [BWRAP, "--dev", "/dev", "--proc", "/proc",
                    "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
                    "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm",
                    *allow_list(self.readonly_binds, mounted=(Path("/tmp"), Path("/dev")))]
            if cwd.is_relative_to(SANDBOX_SCRATCH):
                argv += ["--perms", "0777", "--dir", str(cwd)]
            for folder in self.hidden:  # a hidden folder inside a bound one stays hidden
                if folder.exists() and any(folder.is_relative_to(b) for b in self.readonly_binds):
                    argv += ["--tmpfs", str(folder), "--remount-ro", str(folder)]
            # the runtime folder sits wherever the grader's TMPDIR is (/var/tmp/job-1, a 0700
            # folder of the grader's): bwrap would make its missing parents 0700, unreachable
            # for the kernel uid; make them 0755 and empty first (none is the host's folder)
            for parent in reversed(runtime_dir.parents):
                if parent != Path("/"):
                    argv += ["--perms", "0755", "--dir", str(parent)]
            argv += ["--bind", str(runtime_dir), str(runtime_dir), *ISOLATION,
                     "--cap-drop", "ALL"]
            for cap in caps:
                argv += ["--cap-add", cap]
            argv += ["--chdir", str(cwd), "--clearenv"]
            for key, value in env.items():
                argv += ["--setenv", key, value]
            argv += command
        else:
            argv = list(command)
        if PRLIMIT:
            limits = self.kernel_limits(cgroup)
            if not cpu_limit:  # the zygote: each kernel it forks sets these on itself (a
                del limits["cpu"]  # process limit above the zygote's own could not be set)
                limits.pop("processes", None)
            argv = [PRLIMIT, *[f"--{PRLIMIT_FLAGS[name]}={value}" for name, value in
                               limits.items()], "--", *argv]
        launch = LAUNCH_ENV if self.isolated else env
        return [ENV, "-i", *[f"{k}={v}" for k, v in launch.items()], *argv]

    def kernel_limits(self, cgroup: bool = False) -> dict[str, int]:
        """A kernel's rlimits, by the names `autograder.sandbox.zygote` takes (a forked kernel
        sets them on itself) and `PRLIMIT_FLAGS` maps to prlimit's options (a kernel started
        anew). RLIMIT_NPROC as `process_limit` says: none where a pids cgroup binds."""
        mb = 1024 * 1024
        # no POSIX message queue: on the host's IPC namespace (no bwrap) one would outlive the
        # kernel, and no mqueue file system may be mounted to find and remove it
        limits = {"memory": self.limits.memory_mb * mb, "cpu": self.limits.cpu_seconds,
                  "file_size": self.limits.file_size_mb * mb, "core": 0, "message_queues": 0}
        if cgroup:
            pass
        elif self.kernel_user() is not None:  # a uid of the kernel's own: RLIMIT_NPROC counts
            limits["processes"] = self.limits.processes  # only its processes and threads
        elif os.geteuid() != 0:  # the grader's own uid: it counts the grader's tasks too
            limits["processes"] = uid_tasks(os.getuid()) + self.limits.processes
        return limits


def kernel_environment(scratch: Path) -> dict[str, str]:
    """A clean environment for student code: nothing of the grader's leaks in."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(scratch),
        "IPYTHONDIR": str(scratch / ".ipython"),
        "MPLCONFIGDIR": str(scratch / ".matplotlib"),
        "MPLBACKEND": "Agg",
        "TMPDIR": str(scratch),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "LANG": "C.UTF-8",
        "USER": "student",
        "LOGNAME": "student",
        "NBGRADER_EXECUTION": "autograde",
    }


def allow_list(binds: list[Path], mounted: tuple[Path, ...] = ()) -> list[str]:
    """bwrap arguments for the read-only part of a kernel's world: /usr and the /bin, /sbin,
    /lib* entries (as the host has them: links into /usr, or folders), the /etc files in
    `ETC_FILES`, and each of `binds` (the Python installation, the virtualenv, coursekit).
    Folders in `mounted` are already there (tmpfs mounted before) and are not made again."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            argv += ["--ro-bind", str(top), str(top)]
    made: set[Path] = set(mounted)

    def parents(path: Path) -> list[str]:
        """bwrap makes a mount point's missing parents mode 0700 (unreachable for the kernel
        uid): make them 0755 first, empty (nothing else of the host is in them)."""
        out: list[str] = []
        for parent in reversed(path.parents):
            if parent != Path("/") and parent not in made:
                made.add(parent)
                out += ["--perms", "0755", "--dir", str(parent)]
        return out

    argv += parents(Path("/etc/x"))
    for path in ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    covered = [Path("/usr"), *[Path("/") / n for n in ("bin", "sbin", "lib", "lib32", "lib64")]]
    for folder in binds:
        if not any(folder.is_relative_to(c) for c in covered):
            argv += [*parents(folder), "--ro-bind", str(folder), str(folder)]
    return argv


_BWRAP_WORKS: bool | None = None


def bwrap_works() -> bool:
    """Whether bwrap can make the namespaces it needs here (not in every container)."""
    global _BWRAP_WORKS
    if _BWRAP_WORKS is None:
        if BWRAP is None:
            _BWRAP_WORKS = False
        else:
            probe = [BWRAP, *allow_list([]), "--dev", "/dev", "--proc", "/proc",
                     "--size", "1048576", "--tmpfs", "/tmp", *ISOLATION, "--cap-drop", "ALL",
                     "true"]
            _BWRAP_WORKS = subprocess.run(probe, capture_output=True).returncode == 0
    return _BWRAP_WORKS


_UNPRIVILEGED_PYTHON: dict[str, bool] = {}


def unprivileged_python_works(python: str) -> bool:
    """Whether `python` (with ipykernel) starts as the kernel uid, without bwrap: a Python
    installed under a private home (pyenv under /root) does not, and the kernel then keeps the
    grader's uid (the grade table says so)."""
    if python not in _UNPRIVILEGED_PYTHON:
        uid = kernel_uid()
        ok = False
        if uid is not None and SETPRIV:
            probe = [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                     python, "-c", "import ipykernel, numpy, coursekit"]
            try:
                ok = subprocess.run(probe, capture_output=True, cwd="/", timeout=60,
                                    env={"PATH": "/usr/bin:/bin", "HOME": "/"}).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _UNPRIVILEGED_PYTHON[python] = ok
    return _UNPRIVILEGED_PYTHON[python]


def default_hidden(root: Path, work: Path) -> list[Path]:
    """Folders a submission must not see: masters, work folders, the grader's home. With
    bwrap's allow-list they are not in the sandbox at all (but for one inside a bound folder,
    which gets an empty tmpfs); without bwrap, `protect` makes them unreadable for the kernel
    uid."""
    candidates = [root / "solutions", work, REPO_ROOT / "solutions", REPO_ROOT / "work",
                  REPO_ROOT / "output", Path.home(), Path("/root"), Path("/home")]
    resolved = sorted({folder.resolve() for folder in candidates}, key=lambda p: len(p.parts))
    hidden: list[Path] = []
    for folder in resolved:  # outermost first; a folder inside a hidden one is hidden already
        if not any(folder.is_relative_to(outer) for outer in hidden):
            hidden.append(folder)
    return hidden


def protect(paths: list[Path]) -> None:
    """Without bwrap: make what the grader keeps unreadable for other uids, the kernel's
    included (mode & 0700, never following a link; only the grader's own files). Below a
    protected folder nothing changes: it is unreachable."""
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if info.st_uid == os.geteuid():
                os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o700)
        finally:
            os.close(fd)


def private_parts(courses: list[Path], work: Path) -> tuple[list[Path], list[str]]:
    """What the kernel uid must not read, without bwrap: the work folder (gradebook, every
    submission, autograded copies), each course's masters (`solutions/`), its exports
    (`output/`, `work/`) and its git folder (every master's history), plus notes on what cannot
    be made private here (a worktree's git objects live in another checkout)."""
    found = [work]
    notes = []
    for course in courses:
        found += [course / "solutions", course / "work", course / "output"]
        git = course / ".git"
        if git.is_dir() and not git.is_symlink():
            found.append(git)
        elif git.exists():  # a worktree or submodule: `gitdir: <elsewhere>`
            notes.append(f"{course}'s git objects live outside it ({git} points there): "
                         "kernels may read old masters through them; grade from a clone")
    return found, notes


def runtime_binds() -> list[Path]:
    """What student code needs (read-only): the Python installation (pyenv keeps it under
    $HOME), the virtualenv (its site-packages: numpy, ipykernel, matplotlib, ...) and exactly
    the `coursekit` folder (an editable install keeps it in the checkout, which is not shown)."""
    import coursekit

    folders = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
               Path(coursekit.__file__).resolve().parent]
    return list(dict.fromkeys(folders))
