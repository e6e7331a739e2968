"""The kernel zygote: a process inside the sandbox that forks warm Jupyter kernels.

Starting a kernel costs about a second of CPU before the first cell runs: Python, ipykernel,
IPython, numpy, matplotlib and coursekit are imported anew for every notebook. The zygote imports
them once, inside its own bwrap sandbox, and forks one kernel per notebook from that warm state.

It is a standalone script (stdlib at the top, no `autograder` import) that the grader starts as
`python -c <this file's source>` inside `bwrap --unshare-pid ...`, because the checkout itself may
be hidden from the sandbox. It talks to its worker over stdin/stdout, one JSON object per line:

    -> {"spawn": {"connection_file": ..., "cwd": ..., "env": {...}, "limits": {...},
                  "uid": N | null}}   (the forked kernel switches to uid N before it starts)
    <- {"pid": N}     (the forked kernel has an IPC namespace of its own, see `ready`)
    -> {"ping": null}       <- {"ok": true}
    -> {"poll": N}          <- {"exit": null | code}  (a negative code: killed by that signal)
    -> {"signal": [N, sig]} <- {"ok": true}
    -> {"clean": {"keep": path}}  <- {"ok": true}
         after each notebook: kill every other process of the sandbox, empty /tmp (but for
         `keep`, the worker's folder bound into it) and /dev/shm

Isolation between notebooks: every kernel is a forked child (it shares no writable memory with
the zygote or other kernels) in an IPC namespace of its own (unshare(CLONE_NEWIPC) before it
drops to the kernel uid: SysV shared memory, semaphores, message queues and POSIX message queues
die with it, and the next kernel sees none of them; a zygote that cannot do that says so when it
is ready, `{"ready": true, "own_ipc": false}`, and the worker starts kernels anew instead);
`clean` kills every process of the sandbox's PID namespace but the
zygote (and bwrap's init), so nothing a submission started survives into the next notebook; the
zygote is not dumpable, so a kernel can neither ptrace it nor read its memory or file
descriptors. A kernel that kills or stops the zygote only ends its own notebook: the worker starts
a fresh sandbox. The zygote refuses to run outside its own PID namespace, where `kill(-1)` would
reach the grader's other processes.
"""

import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time

PR_SET_DUMPABLE = 4
CLONE_NEWIPC = 0x08000000
LIMITS = {"memory": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU,
          "file_size": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE,
          "processes": resource.RLIMIT_NPROC, "message_queues": resource.RLIMIT_MSGQUEUE}
WARM = ("numpy", "numpy.linalg", "numpy.random", "numpy.testing", "matplotlib",
        "matplotlib.pyplot", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
        "ipykernel.zmqshell", "ipykernel.debugger", "coursekit")
BIND_SECONDS = 30


def in_own_pid_namespace() -> bool:
    """bwrap --unshare-pid makes its init PID 1 and our process PID 2."""
    try:
        with open("/proc/1/cmdline", "rb") as f:
            init = os.path.basename(f.read().split(b"\0")[0])
    except OSError:
        return False
    return os.getppid() == 1 and init == b"bwrap"


def warm_up() -> None:
    import importlib
    import pkgutil

    for name in WARM:
        importlib.import_module(name)
    import coursekit

    for info in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
        if "widget" in info.name:  # ipywidgets registers itself with the running IPython
            continue
        try:
            importlib.import_module(info.name)
        except Exception:
            pass


def run_kernel(spec: dict, protocol_fds: tuple, bound: int) -> None:
    """In the forked child: become a fresh kernel in `spec["cwd"]`; never returns.

    Writes to the pipe `bound` once the kernel's sockets are bound, so the worker's client
    connects to sockets that exist (a client that connects too early retries only every 100 ms
    and misses the kernel's first status messages)."""
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in protocol_fds:  # keep the numbers taken: the zygote's file objects own them
            os.dup2(devnull, fd)
        os.close(devnull)
        os.makedirs(spec["cwd"], exist_ok=True)  # in the sandbox's /tmp, emptied by `clean`
        uid = spec.get("uid")
        if uid is not None:
            os.chown(spec["cwd"], uid, uid)
        os.chdir(spec["cwd"])
        os.environ.clear()
        os.environ.update(spec["env"])
        import tempfile

        tempfile.tempdir = None  # pick up the kernel's TMPDIR
        import numpy.random

        numpy.random.seed()  # as a fresh kernel: its own draws (Python's random reseeds itself)
        for name, value in spec["limits"].items():
            resource.setrlimit(LIMITS[name], (value, value))
        own_ipc_namespace()  # nothing IPC of an earlier kernel is visible, nothing of ours lives on
        if uid is not None:  # the kernel's own unprivileged uid: no capability, NPROC binds
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            if os.getuid() != uid or os.geteuid() != uid or effective_caps() != 0:
                raise RuntimeError("could not drop to the kernel uid")
            ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # its own /proc/self, as usual
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["-f", spec["connection_file"], "--HistoryManager.hist_file=:memory:"])
        os.write(bound, b"1")
        os.close(bound)
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def own_ipc_namespace() -> None:
    """Move this process into a new IPC namespace (raises OSError if it cannot)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWIPC) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWIPC) failed")


def effective_caps() -> int:
    """This process's effective capability set, as /proc/self/status shows it."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return -1


def can_give_own_ipc() -> bool:
    """Whether a forked kernel can get an IPC namespace of its own here (tried in a child)."""
    pid = os.fork()
    if pid == 0:
        try:
            own_ipc_namespace()
            code = 0
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


class ZygoteServer:
    def __init__(self, protocol_in: int, protocol_out: int) -> None:
        self.fds = (protocol_in, protocol_out)
        self.reader = os.fdopen(protocol_in, "r", encoding="utf-8")
        self.writer = os.fdopen(protocol_out, "w", encoding="utf-8")
        self.exits: dict = {}

    def reply(self, message: dict) -> None:
        self.writer.write(json.dumps(message) + "\n")
        self.writer.flush()

    def serve(self) -> None:
        for line in self.reader:
            request = json.loads(line)
            (command, argument), = request.items()
            self.reply(getattr(self, "do_" + command)(argument))

    def do_spawn(self, spec: dict) -> dict:
        bound_read, bound_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(bound_read)
            run_kernel(spec, self.fds, bound_write)
        os.close(bound_write)
        self.exits[pid] = None
        ready, _, _ = select.select([bound_read], [], [], BIND_SECONDS)
        if ready:
            os.read(bound_read, 1)  # b"1", or b"" (EOF) if it died first: a poll will tell
        os.close(bound_read)
        return {"pid": pid}

    def do_ping(self, _: object) -> dict:
        return {"ok": True}

    def do_poll(self, pid: int) -> dict:
        if self.exits.get(pid) is None:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done == pid:
                self.exits[pid] = os.waitstatus_to_exitcode(status)
        return {"exit": self.exits.get(pid)}

    def do_signal(self, argument: list) -> dict:
        pid, signum = argument
        if self.exits.get(pid, 0) is None:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
        return {"ok": True}

    def do_clean(self, argument: dict) -> dict:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(-1, signal.SIGKILL)  # everyone in this PID namespace but init and us
            except ProcessLookupError:
                pass
            self.reap()
            others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in
                      (1, os.getpid())]
            if not others:
                break
            time.sleep(0.005)
        self.exits.clear()  # every kernel is gone (a later poll reads exit 0)
        for folder in ["/tmp", "/dev/shm"]:
            wipe(folder, argument["keep"])
        return {"ok": not others}

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.exits and self.exits[pid] is None:
                self.exits[pid] = os.waitstatus_to_exitcode(status)


def wipe(folder: str, keep: str) -> None:
    """Remove what is in `folder`, but not `keep` (nor the folders on the way to it)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for name in entries:
        path = os.path.join(folder, name)
        if keep == path or keep.startswith(path + os.sep):
            if keep != path:
                wipe(path, keep)
        elif os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def main() -> int:
    if not in_own_pid_namespace():
        print("zygote: refusing to run outside its own PID namespace (bwrap --unshare-pid)",
              file=sys.stderr)
        return 2
    protocol_in, protocol_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)  # a kernel writing to fd 1 must not reach the protocol
    os.close(devnull)
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    zygote = ZygoteServer(protocol_in, protocol_out)
    try:
        warm_up()
    except Exception as exc:
        zygote.reply({"error": f"warm-up failed: {type(exc).__name__}: {exc}"})
        return 1
    zygote.reply({"ready": True, "own_ipc": can_give_own_ipc()})
    zygote.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
