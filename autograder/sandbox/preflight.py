"""Before anyone is graded: can a kernel start in this sandbox on this machine?

A kernel that cannot start (its runtime folder unreachable, a bind that is missing, a full
disk, a memory limit too small for Python) fails before any student code runs, so it says
nothing about a submission: `check_kernels` starts one kernel the way the workers will (the
same `Sandbox`, a cold start) and raises `GraderFault` naming the cause and what to fix, so
`grade` stops with every student ungraded instead of grading them all `kernel died`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import tempfile
import threading
from pathlib import Path

from autograder.sandbox.policy import Sandbox
from autograder.sandbox.runtime import GraderFault, hand_to, remove_tree, runtime_base

START_SECONDS = 60
PROBE_SECONDS = 20


def check_kernels(sandbox: Sandbox) -> None:
    """Start and stop one kernel in `sandbox`; raise `GraderFault` if it cannot start."""
    from autograder.sandbox.kernel_manager import SandboxedKernelManager

    cold = dataclasses.replace(sandbox, warm_kernels=False)

    async def start_and_stop() -> None:
        km = SandboxedKernelManager(kernel_name="python3", sandbox=cold)
        try:
            await km.start_kernel()
            client = km.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=START_SECONDS)
            finally:
                client.stop_channels()
        finally:
            try:
                await km.shutdown_kernel(now=True)
            except Exception:
                pass
            km.remove_runtime()

    try:
        _run_apart(start_and_stop, START_SECONDS + 30)
    except GraderFault:
        raise
    except Exception as exc:
        raise GraderFault(
            f"kernels cannot start here ({type(exc).__name__}: {str(exc)[:200]}), before any "
            f"student code ran, so nobody was graded. {diagnose(cold)} "
            f"Sandbox: {cold.isolation}.") from exc


def _run_apart(coroutine_function, seconds: float) -> None:
    """Run ``coroutine_function()`` to its end on an event loop of its own, in a thread of its
    own: the caller's thread may have a loop running already (a test runner's, a notebook's),
    where asyncio.run() refuses to start."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine_function())
        except BaseException as exc:  # noqa: BLE001 (handed to the caller)
            failed.append(exc)

    thread = threading.Thread(target=run, name="kernel-preflight", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"the check kernel neither started nor stopped in {seconds:g} s")
    if failed:
        raise failed[0]


def diagnose(sandbox: Sandbox) -> str:
    """Why a kernel of `sandbox` does not start: run its start command once with its error
    output kept (a kernel started for grading writes nowhere), and say what it printed."""
    runtime = Path(tempfile.mkdtemp(prefix="autograder-preflight-",
                                    dir=runtime_base(sandbox.kernel_user())))
    try:
        scratch = sandbox.scratch_for(runtime)
        if not sandbox.isolated:
            scratch.mkdir()
            hand_to(scratch, [], sandbox.kernel_user())
        hand_to(runtime, [], sandbox.kernel_user())
        argv = [a.replace("{connection_file}", str(runtime / "kernel.json"))
                for a in sandbox.kernel_argv(runtime, scratch)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_SECONDS,
                                  cwd=str(scratch) if not sandbox.isolated else None,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return ("Started alone, the kernel ran (it may be too slow to answer: a loaded "
                    "machine?); try fewer --workers.")
        except OSError as exc:
            return f"Its start command could not run: {exc}."
        said = " | ".join(line.strip() for line in
                          (done.stderr or done.stdout).strip().splitlines()[-4:])
        return (f"Started alone it exited with status {done.returncode}, saying: "
                f"{said[:600] or '(nothing)'}. Check the temporary folder (TMPDIR), free disk "
                "space, the memory limit (--memory) and that bwrap can bind the Python "
                "installation, then grade again.")
    finally:
        remove_tree(runtime)
