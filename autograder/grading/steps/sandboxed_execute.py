"""Execute: nbgrader's Execute in a sandboxed kernel, with a wall clock and an output budget."""

from __future__ import annotations

import asyncio
import time

from coursekit.core import RECORD_MIME
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Any as AnyTrait
from traitlets import Integer

from autograder.grading.outcome import DISK_QUOTA, KERNEL_DIED, MEMORY, TIMED_OUT
from autograder.grading.state import error_output, state
from autograder.grading.verify import MAX_RECORD_BYTES
from autograder.sandbox.kernel_manager import SandboxedKernelManager


class SandboxedExecute(Execute):
    """nbgrader's Execute, in a sandboxed kernel, with a wall clock and an output budget.

    A cell that runs past its timeout is interrupted (SIGINT), marked with a CellTimeoutError
    and the notebook carries on, as nbgrader does: an endless loop in one exercise costs that
    exercise, not the ones after it. A kernel that does not stop within `interrupt_grace`
    seconds of the interrupt is stuck; like a dead kernel or a spent wall clock, it stops the
    notebook (the rest did not run: their test cells have no records and score 0). Output beyond
    `output_bytes` is dropped as it arrives, so a submission printing gigabytes costs neither
    memory nor disk. Without bwrap, a kernel that writes more than its disk quota is stopped
    and the notebook ends `over the disk quota`.
    """

    sandbox = AnyTrait(None)
    raise_on_iopub_timeout = False
    shell_timeout_interval = 1  # notice a dead kernel within a second
    interrupt_grace = Integer(5, help="Seconds a kernel gets to stop after a cell's timeout "
                              "interrupt before the notebook is stopped as stuck."
                              ).tag(config=True)

    @property
    def wall_clock(self) -> int:
        return self.sandbox.limits.wall_clock

    @property
    def cell_timeout(self) -> int:
        return self.sandbox.limits.cell_timeout

    @property
    def output_bytes(self) -> int:
        return self.sandbox.limits.output_bytes

    def create_kernel_manager(self):
        self.km = SandboxedKernelManager(kernel_name=self.kernel_name or "python3",
                                         sandbox=self.sandbox, config=self.config)
        self._sandbox_km = self.km  # nbclient forgets self.km when it cleans up
        return self.km

    def preprocess(self, nb, resources=None, km=None):
        self._sandbox_km = None
        self._started = time.monotonic()
        self._ready = None
        self._deadline = self._started + self.wall_clock
        self._budget = self.output_bytes
        self._record_budget = MAX_RECORD_BYTES
        self._truncated = False
        self.timeout_func = self._cell_timeout
        self.shutdown_kernel = "immediate"
        try:
            return super().preprocess(nb, resources, km)
        except (DeadKernelError, RuntimeError) as exc:
            # died before the first cell ran: the kernel could not even start
            state(self.resources).setdefault("failure", KERNEL_DIED)
            state(self.resources)["start_error"] = f"{type(exc).__name__}: {exc}"
            return self.nb, self.resources
        finally:
            done = time.monotonic()
            ready = self._ready or done
            info = state(self.resources)
            info["timings"] = {"kernel start": ready - self._started,
                               "cells + kernel stop": done - ready}
            km = self._sandbox_km
            if km is not None:
                km.remove_runtime()
                info["isolation"] = km.isolation  # which process limit this kernel got
                if km.quota_exceeded:  # its kernel was killed for it: not a crash of its own
                    info.update(failure=DISK_QUOTA, stopped=True)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        self.km.seal_runtime()  # before any student code runs
        return kc

    # nbclient binds its sync wrapper to its own coroutine: bind it to this one
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _cell_timeout(self, cell) -> int:
        left = self._deadline - time.monotonic()
        return max(1, int(min(self.cell_timeout, left)))

    def preprocess_cell(self, cell, resources, index):
        if index in state(self.resources).get("skip_cells", ()):  # SkipTeachingCells
            return cell, self.resources
        if self._ready is None:
            self._ready = time.monotonic()
        info = state(self.resources)
        if info.get("stopped") or cell.cell_type != "code":
            return cell, self.resources
        if time.monotonic() >= self._deadline:
            info.update(failure=TIMED_OUT, stopped=True)
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            info.update(failure=KERNEL_DIED, stopped=True)
            if self._sandbox_km is not None and self._sandbox_km.quota_exceeded:
                quota = self.sandbox.limits.scratch_mb
                cell.outputs.append(error_output(
                    "DiskQuotaExceeded", f"this cell wrote more than the {quota} MB disk quota "
                    "(working folder and temporary folders); the kernel was stopped and "
                    "nothing after it ran"))
            else:
                cell.outputs.append(error_output(
                    "DeadKernelError", "the kernel died while this cell ran (os._exit, a "
                    "signal, or a crash); nothing after it ran"))
        except CellTimeoutError:
            info.update(failure=TIMED_OUT, stopped=True)
            cell.outputs.append(error_output(
                "CellTimeoutError", "this cell did not finish in time and did not stop when "
                "interrupted; nothing after it ran"))
        except Exception as exc:  # the kernel stopped answering in some other way
            info.update(failure=KERNEL_DIED, stopped=True)
            cell.outputs.append(error_output(type(exc).__name__, str(exc)[:500]))
        return cell, self.resources

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg,
                                    task_poll_kernel_alive):
        self._cell_output_task = task_poll_output_msg  # finishes when the kernel goes idle
        return await super()._async_poll_for_reply(msg_id, cell, timeout, task_poll_output_msg,
                                                   task_poll_kernel_alive)

    async def _async_handle_timeout(self, timeout, cell=None):
        """The cell ran past `timeout`: interrupt it; if the kernel goes idle within the grace
        period, record a timeout error for this cell and let the notebook carry on."""
        await ensure_async(self.km.interrupt_kernel())
        try:
            await asyncio.wait_for(asyncio.shield(self._cell_output_task), self.interrupt_grace)
        except asyncio.TimeoutError:
            raise CellTimeoutError.error_from_timeout_and_cell(
                "Cell execution timed out and ignored the interrupt", timeout, cell) from None
        evalue = (f"this cell ran longer than {timeout} s and was interrupted; the cells after "
                  "it still ran")
        if cell is not None:
            cell.outputs.append(error_output("CellTimeoutError", evalue))
        return {"content": {"status": "error", "ename": "CellTimeoutError", "evalue": evalue,
                            "traceback": []}}

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        info = state(self.resources)
        content = kwargs["execute_reply"]["content"]
        info.setdefault("executed", {})[kwargs["cell_index"]] = content["status"]
        ename = content.get("ename")
        if ename == "CellTimeoutError":
            info["failure"] = TIMED_OUT
        elif ename == "MemoryError" and not info.get("failure"):
            info["failure"] = MEMORY

    def output(self, outs, msg, display_id, cell_index):
        _normalise(msg.get("content"))
        size = len(str(msg.get("content", "")))
        if RECORD_MIME in (msg.get("content", {}).get("data") or {}):
            # the checks' records have a budget of their own, so a chatty notebook cannot
            # crowd them out (and records cannot crowd out the notebook's own output)
            self._record_budget -= size
            if self._record_budget < 0:
                return None
            return super().output(outs, msg, display_id, cell_index)
        if self._budget - size < 0:
            if not self._truncated:
                self._truncated = True
                outs.append(new_output("stream", name="stdout",
                                       text="\n... output truncated by the grader ...\n"))
            return None
        self._budget -= size
        return super().output(outs, msg, display_id, cell_index)


def _normalise(content) -> None:
    """A kernel's output message as the notebook format has it: text and MIME data as strings
    (the kernel is the student's and may send a list, a number or a dict where text belongs;
    the grader's steps then read a string)."""
    if not isinstance(content, dict):
        return
    if "text" in content and not isinstance(content["text"], str):
        text = content["text"]
        content["text"] = ("".join(str(t) for t in text) if isinstance(text, list)
                           else str(text))
    data = content.get("data")
    if isinstance(data, dict):
        for mime, value in list(data.items()):
            if not isinstance(mime, str):
                data.pop(mime)
            elif not isinstance(value, str) and not mime.endswith("json"):
                data[mime] = ("".join(str(v) for v in value) if isinstance(value, list)
                              else str(value))
