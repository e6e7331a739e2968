"""Execute: nbgrader's Execute in a sandboxed kernel, with a wall clock and an output budget;
the test cells run here, in the grader, and ask the kernel for data."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from queue import Empty

from coursekit.core import ANSWER_MIME
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Any as AnyTrait
from traitlets import Integer

from autograder.grading.graded_tests import graded_tests, is_test_cell
from autograder.grading.outcome import DISK_QUOTA, KERNEL_DIED, MEMORY, TIMED_OUT
from autograder.grading.state import error_output, state
from autograder.grading.verify import RequestFailed, Verdict, verify_cell
from autograder.sandbox.kernel_manager import SandboxedKernelManager


class SandboxedExecute(Execute):
    """nbgrader's Execute, in a sandboxed kernel, with a wall clock and an output budget.

    The kernel runs every cell but the test cells. A test cell runs here instead, from the
    master's source (`autograder.grading.graded_tests`), by `autograder.grading.verify`: each
    probe of its checks becomes one execute request to the kernel whose code is a single call,
    ``coursekit.answer.answer_request('<json>')`` (which probe, which of the student's names,
    the inputs); the answer is the one display output of that request tagged with its id. So
    the kernel learns each call's inputs and nothing else, and its answers are data.

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
    #: Most bytes of answers to the grader's requests in one notebook (apart from its output).
    answer_bytes = Integer(40_000_000, help="Most bytes of the kernel's answers to the "
                           "grader's requests in one notebook.").tag(config=True)
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
        self._answer_budget = self.answer_bytes
        self._tests = graded_tests(self.config, resources or {})
        self._nonce = secrets.token_hex(8)
        self._requests = 0
        self._request_seconds = 0.0
        self._test_seconds = 0.0
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
            # the steps add up; "requests to the kernel" is the part of the test cells' time
            # spent waiting for the kernel's answers (the rest is the checks' judging)
            info["timings"] = {"kernel start": ready - self._started,
                               "cells + kernel stop": done - ready - self._test_seconds,
                               "test cells": self._test_seconds,
                               "requests to the kernel": self._request_seconds}
            info["requests"] = self._requests
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
        if is_test_cell(cell):
            self._run_test_cell(cell, index)
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

    def _run_test_cell(self, cell, index: int) -> None:
        """Decide the test cell here from the master's source, asking the kernel for data;
        the verdict goes into the grading state (VerifyGradeCells writes it into the cell)."""
        started = time.monotonic()
        try:
            self._decide_test_cell(cell, index)
        finally:
            self._test_seconds += time.monotonic() - started

    def _decide_test_cell(self, cell, index: int) -> None:
        grade_id = cell.metadata.nbgrader["grade_id"]
        source = self._tests.source(grade_id)
        cell.outputs = []
        if source is None:
            verdict = Verdict(False, "failed the visible test", f"no master test cell "
                              f"'{grade_id}' in the gradebook; the test scores 0",
                              "this test is not in the assignment's release", ename="GraderError")
        else:
            verdict = verify_cell(source, self._tests.imports,
                                  lambda request: self._ask(request, cell, index))
        state(self.resources).setdefault("verdicts", {})[grade_id] = verdict

    def _ask(self, request: dict, test_cell, index: int) -> dict:
        """Send one request to the kernel and return its answer (``{"value": ...}`` or
        ``{"error": [type, message]}``); RequestFailed when the kernel cannot answer."""
        info = state(self.resources)
        if info.get("stopped"):
            raise RequestFailed("DeadKernelError", "the kernel had stopped before this test")
        self._requests += 1
        request_id = f"{self._nonce}-{self._requests}"
        text = json.dumps({**request, "id": request_id}, allow_nan=False)
        code = f"__import__('coursekit.answer').answer.answer_request({text!r})"
        timeout = self._cell_timeout(test_cell)
        started = time.monotonic()
        try:
            answers, timed_out = self._request(code, request_id, timeout)
        except DeadKernelError:
            info.update(failure=KERNEL_DIED, stopped=True)
            test_cell.outputs.append(error_output(
                "DeadKernelError", "the kernel died while the student's code ran for this "
                "test; nothing after it ran"))
            raise RequestFailed("DeadKernelError", "the kernel died while answering") from None
        except CellTimeoutError:
            info.update(failure=TIMED_OUT, stopped=True)
            test_cell.outputs.append(error_output(
                "CellTimeoutError", "the student's code ran past its time limit for this test "
                "and ignored the interrupt; nothing after it ran"))
            raise RequestFailed("CellTimeoutError", "the student's code did not finish in "
                                "time and ignored the interrupt") from None
        finally:
            self._request_seconds += time.monotonic() - started
        if timed_out:
            info["failure"] = TIMED_OUT
            return {"error": ["TimeoutError", f"it ran longer than {timeout} s on this input "
                              "and was interrupted"]}
        if len(answers) != 1:
            return {"error": ["RecordError", f"the kernel gave {len(answers)} answers to one "
                              "request: the notebook changed how its code is called"]}
        return {key: value for key, value in answers[0].items() if key != "id"}

    async def _async_request(self, code: str, request_id: str,
                             timeout: float) -> tuple[list[dict], bool]:
        """Execute ``code`` (not stored in the kernel's history) and collect the answers
        tagged ``request_id`` among its display outputs; nothing else it sends is kept.
        (answers, timed out): past ``timeout`` the kernel is interrupted and gets
        `interrupt_grace` seconds to go idle, else CellTimeoutError; DeadKernelError when it
        dies."""
        msg_id = await ensure_async(self.kc.execute(code, store_history=False,
                                                    allow_stdin=False, stop_on_error=False))
        deadline = time.monotonic() + timeout
        answers: list[dict] = []
        timed_out = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if timed_out:  # the interrupt's grace is spent too
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        "Request timed out and ignored the interrupt", timeout, None)
                timed_out = True
                await ensure_async(self.km.interrupt_kernel())
                deadline = time.monotonic() + self.interrupt_grace
                continue
            try:
                msg = await ensure_async(self.kc.get_iopub_msg(timeout=min(left, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise DeadKernelError("Kernel died") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue  # another request's late output, or a thread's: never read
            kind, content = msg.get("msg_type"), msg.get("content") or {}
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind != "display_data" or not isinstance(content.get("data"), dict):
                continue
            size = len(str(content))
            self._answer_budget -= size
            payload = content["data"].get(ANSWER_MIME)
            if self._answer_budget >= 0 and isinstance(payload, dict) \
                    and payload.get("id") == request_id:
                answers.append(payload)
        try:  # the reply, so the next request does not read this one's
            await ensure_async(self.kc.get_shell_msg(timeout=self.interrupt_grace))
        except Empty:
            pass
        return answers, timed_out

    _request = run_sync(_async_request)

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
        if ANSWER_MIME in (msg.get("content", {}).get("data") or {}):
            # answers to the grader's requests have a budget of their own, so a chatty notebook
            # cannot crowd them out (and answers cannot crowd out the notebook's own output)
            self._answer_budget -= size
            if self._answer_budget < 0:
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
