"""The sandbox policy: what a kernel may see and use (bwrap argv, environment, rlimits).

With bwrap: no network (`--unshare-net`, so the kernel talks over IPC sockets), a read-only view
of the system, a private writable scratch folder (the kernel's working directory and $HOME, in a
size-limited tmpfs /tmp of the sandbox's own), no capabilities, and
empty tmpfs mounts over everything a submission must not see: the masters (`solutions/`, which
hold the hidden tests and the reference package), the work folder (gradebook, other students'
submissions and autograded copies) and the grader's home folder.

Everywhere: RLIMIT_AS (memory), RLIMIT_CPU (CPU seconds), RLIMIT_FSIZE (largest file written)
and RLIMIT_NPROC-free process limits via `prlimit`, plus a wall clock enforced by the executor.
Without bwrap the limits still apply; `Sandbox.isolated` says whether isolation is on.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import REPO_ROOT

BWRAP = shutil.which("bwrap") or ("/usr/bin/bwrap" if Path("/usr/bin/bwrap").exists() else None)
PRLIMIT = shutil.which("prlimit") or (
    "/usr/bin/prlimit" if Path("/usr/bin/prlimit").exists() else None
)


PRLIMIT_FLAGS = {"memory": "as", "cpu": "cpu", "file_size": "fsize", "core": "core"}

SANDBOX_SCRATCH = Path("/tmp/scratch")  # inside the sandbox only

# No network (kernels talk over IPC sockets), no SysV IPC shared with the host or other kernels,
# and no capabilities: a grader run as root (CI containers) would otherwise hand its kernels
# CAP_SYS_ADMIN, and `umount` of the tmpfs over solutions/ would show the hidden tests.
ISOLATION = ("--unshare-net", "--unshare-ipc", "--cap-drop", "ALL", "--die-with-parent")


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
    scratch_mb: int = 256  # size of each tmpfs a kernel writes to: /tmp (its scratch) and /dev/shm


@dataclass
class Sandbox:
    """How kernels are started: which folders are hidden, which limits apply."""

    hidden: list[Path] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    use_bwrap: bool = True
    python: str = sys.executable
    warm_kernels: bool = True  # fork kernels from a warm zygote where bwrap isolates them
    readonly_binds: list[Path] = field(default_factory=lambda: runtime_binds())

    @property
    def isolated(self) -> bool:
        return self.use_bwrap and BWRAP is not None and bwrap_works()

    def scratch_for(self, runtime_dir: Path) -> Path:
        """A kernel's working directory, $HOME and $TMPDIR: inside bwrap, a folder of the
        sandbox's own size-limited /tmp (the grader's disk never sees it); without bwrap, a
        folder of the kernel's runtime folder."""
        return SANDBOX_SCRATCH if self.isolated else runtime_dir / "scratch"

    def kernel_argv(self, runtime_dir: Path, scratch: Path) -> list[str]:
        """The command that starts one kernel; `{connection_file}` is filled in by jupyter."""
        kernel = [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                  "--HistoryManager.hist_file=:memory:"]
        return self.confine(kernel, runtime_dir, scratch, kernel_environment(scratch))

    def zygote_argv(self, runtime_dir: Path) -> list[str]:
        """The command that starts a kernel zygote (`autograder.sandbox.zygote`) in its own
        sandbox and PID namespace; each kernel it forks sets its own CPU limit."""
        home = runtime_dir / "zygote"
        home.mkdir(exist_ok=True)
        source = (Path(__file__).parent / "zygote.py").read_text()
        return self.confine([self.python, "-c", source], runtime_dir, home,
                            kernel_environment(home), own_pids=True, cpu_limit=False)

    def confine(self, command: list[str], runtime_dir: Path, cwd: Path, env: dict[str, str],
                own_pids: bool = False, cpu_limit: bool = True) -> list[str]:
        """`command` inside bwrap (when isolated) and under the resource limits."""
        if self.isolated:
            size = str(self.limits.scratch_mb * 1024 * 1024)
            argv = [BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                    "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/dev/shm"]
            if cwd.is_relative_to(SANDBOX_SCRATCH):
                argv += ["--dir", str(cwd)]
            for folder in self.hidden:
                if folder.exists():
                    argv += ["--tmpfs", str(folder)]
            for folder in self.readonly_binds:
                argv += ["--ro-bind", str(folder), str(folder)]
            for folder in self.hidden:
                if folder.exists():
                    argv += ["--remount-ro", str(folder)]  # empty and unwritable
            argv += ["--bind", str(runtime_dir), str(runtime_dir), *ISOLATION]
            if own_pids:
                argv += ["--unshare-pid"]
            argv += ["--chdir", str(cwd), "--clearenv"]
            for key, value in env.items():
                argv += ["--setenv", key, value]
            argv += command
        else:
            argv = ["env", "-i", *[f"{k}={v}" for k, v in env.items()], *command]
        if PRLIMIT:
            limits = self.kernel_limits()
            if not cpu_limit:
                del limits["cpu"]
            argv = [PRLIMIT, *[f"--{PRLIMIT_FLAGS[name]}={value}" for name, value in
                               limits.items()], "--", *argv]
        return argv

    def kernel_limits(self) -> dict[str, int]:
        """A kernel's rlimits, by the names `autograder.sandbox.zygote` takes (a forked kernel
        sets them on itself) and `PRLIMIT_FLAGS` maps to prlimit's options (a kernel started
        anew)."""
        mb = 1024 * 1024
        return {"memory": self.limits.memory_mb * mb, "cpu": self.limits.cpu_seconds,
                "file_size": self.limits.file_size_mb * mb, "core": 0}


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
        "NBGRADER_EXECUTION": "autograde",
        # coursekit's checks only record what the student's code returns; the grader decides
        "COURSEKIT_RECORD": "1",
    }


_BWRAP_WORKS: bool | None = None


def bwrap_works() -> bool:
    """Whether bwrap can make the namespaces it needs here (not in every container)."""
    global _BWRAP_WORKS
    if _BWRAP_WORKS is None:
        if BWRAP is None:
            _BWRAP_WORKS = False
        else:
            probe = [BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                     "--size", "1048576", "--tmpfs", "/tmp", *ISOLATION, "--unshare-pid", "true"]
            _BWRAP_WORKS = subprocess.run(probe, capture_output=True).returncode == 0
    return _BWRAP_WORKS


def default_hidden(root: Path, work: Path) -> list[Path]:
    """Folders a submission must not see: masters, work folders, the grader's home."""
    candidates = [root / "solutions", work, REPO_ROOT / "solutions", REPO_ROOT / "work",
                  REPO_ROOT / "output", Path.home(), Path("/root"), Path("/home")]
    resolved = sorted({folder.resolve() for folder in candidates}, key=lambda p: len(p.parts))
    hidden: list[Path] = []
    for folder in resolved:  # outermost first; a folder inside a hidden one is hidden already
        if not any(folder.is_relative_to(outer) for outer in hidden):
            hidden.append(folder)
    return hidden


def runtime_binds() -> list[Path]:
    """What student code needs even where a hidden folder sits above it (read-only):
    the Python installation (pyenv keeps it under $HOME), the virtualenv and coursekit."""
    import coursekit

    folders = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
               Path(coursekit.__file__).resolve().parent]
    return list(dict.fromkeys(folders))
