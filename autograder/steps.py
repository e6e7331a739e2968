"""The kit's own grading steps, in nbgrader's preprocessor style (one job each).

They run around nbgrader's own steps (see `autograder.pipeline`):

    sanitize:  StripForeignGradeIds, ClearOutput, DeduplicateIds, OverwriteKernelspec,
               OverwriteCells, CheckCellMetadata, InsertGuardCells
    execute:   SandboxedExecute
    score:     ReadGuardVerdicts, IgnorePattern, LimitOutput, ZeroUnrunTests, ErrorsFirst,
               ZeroOnTampering

Every step reads and writes `resources["autograder"]`, a dict that travels with the notebook:
`known_ids`, `nonce`, `executed` (cell index -> reply status), `failure` (named error or None),
`tampering` (what was changed, or None).
"""

from __future__ import annotations

import asyncio
import secrets
import time

from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Any as AnyTrait
from traitlets import Integer

from autograder.guard import (
    GUARD_KEY,
    bound_names,
    check_source,
    install_source,
    read_names,
    record_source,
)
from autograder.sandbox import SandboxedKernelManager

# Named errors a notebook can end with (shown in the grade table and exports).
TIMED_OUT = "timed out"
MEMORY = "killed for memory"
KERNEL_DIED = "kernel died"
TAMPERING = "tampering detected"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def state(resources: dict) -> dict:
    return resources.setdefault("autograder", {})


class StripForeignGradeIds(NbGraderPreprocessor):
    """Drop nbgrader metadata from cells whose grade_id the master does not have.

    A student who invents a grade cell (say, worth 1000 points) would otherwise make nbgrader's
    metadata check fail the whole notebook; the invented cell becomes an ordinary cell instead.
    """

    def preprocess_cell(self, cell, resources, index):
        known = state(resources)["known_ids"]
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if "nbgrader" in cell.metadata and grade_id not in known:
            del cell.metadata["nbgrader"]
        return cell, resources


class InsertGuardCells(NbGraderPreprocessor):
    """Insert the tamper guard: install first, a check before each grade cell and at the end,
    and a record after each locked cell (its source is the master's, restored by OverwriteCells)
    of the names it binds, so a grade cell's check can tell that a name it reads was rebound."""

    def preprocess(self, nb, resources):
        nonce = state(resources).setdefault("nonce", secrets.token_hex(8))
        cells = [_guard_cell(install_source(nonce), "install")]
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                cells.append(cell)
                continue
            if utils.is_grade(cell):
                where = meta["grade_id"]
                cells.append(_guard_cell(check_source(where, read_names(cell.source)), "check"))
            cells.append(cell)
            if meta.get("locked") and not meta.get("solution"):
                names = bound_names(cell.source)
                if names:
                    where = meta.get("grade_id", "a locked cell")
                    cells.append(_guard_cell(record_source(where, names), "record"))
        cells.append(_guard_cell(check_source("the end of the notebook"), "check"))
        nb.cells = cells
        return nb, resources


def _guard_cell(source: str, role: str) -> NotebookNode:
    cell = new_code_cell(source)
    cell.metadata[GUARD_KEY] = role
    return cell


class SandboxedExecute(Execute):
    """nbgrader's Execute, in a sandboxed kernel, with a wall clock and an output budget.

    A cell that runs past its timeout is interrupted (SIGINT), marked with a CellTimeoutError
    and the notebook carries on, as nbgrader does: an endless loop in one exercise costs that
    exercise, not the ones after it. A kernel that does not stop within `interrupt_grace`
    seconds of the interrupt is stuck; like a dead kernel or a spent wall clock, it stops the
    notebook (the rest did not run, and `ZeroUnrunTests` scores its tests 0). Output beyond
    `output_bytes` is dropped as it arrives, so a submission printing gigabytes costs neither
    memory nor disk.
    """

    sandbox = AnyTrait(None)
    raise_on_iopub_timeout = False
    shell_timeout_interval = 1  # notice a dead kernel within a second
    wall_clock = Integer(180)
    cell_timeout = Integer(30)
    interrupt_grace = Integer(5)
    output_bytes = Integer(200_000)

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
            state(self.resources)["timings"] = {"kernel start": ready - self._started,
                                                "cells + kernel stop": done - ready}
            if self._sandbox_km is not None:
                self._sandbox_km.remove_runtime()

    def _cell_timeout(self, cell) -> int:
        left = self._deadline - time.monotonic()
        return max(1, int(min(self.cell_timeout, left)))

    def preprocess_cell(self, cell, resources, index):
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
            cell.outputs.append(error_output(
                "DeadKernelError", "the kernel died while this cell ran (os._exit, a signal, "
                "or a crash); nothing after it ran"))
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
        size = len(str(msg.get("content", "")))
        if self._budget - size < 0:
            if not self._truncated:
                self._truncated = True
                outs.append(new_output("stream", name="stdout",
                                       text="\n... output truncated by the grader ...\n"))
            return None
        self._budget -= size
        return super().output(outs, msg, display_id, cell_index)


class ReadGuardVerdicts(NbGraderPreprocessor):
    """Read what the guard cells printed, then remove them (they never reach feedback)."""

    def preprocess(self, nb, resources):
        info = state(resources)
        nonce = info.get("nonce", "")
        executed = info.get("executed", {})
        problems = []
        kept = []
        for index, cell in enumerate(nb.cells):
            role = cell.metadata.get(GUARD_KEY)
            if role is None:
                kept.append(cell)
                continue
            if index not in executed:
                continue  # the notebook stopped before it (timeout, dead kernel)
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            lines = [line for line in text.splitlines() if line.startswith(nonce)]
            if executed[index] != "ok" or not lines:
                how = "failed" if executed[index] != "ok" else "was silenced"
                problems.append(f"the grader's {role} cell {how}")
            elif "TAMPERED:" in lines[0]:
                problems.append(lines[0][len(nonce):].replace("TAMPERED:", "").strip())
        nb.cells = kept
        info["tampering"] = _summarize(problems) or None
        if problems:
            info["failure"] = TAMPERING
        return nb, resources


def _summarize(problems: list[str]) -> str:
    """'numpy.allclose changed (first seen before test_x)' once per change, not once per check."""
    seen: dict[str, str] = {}
    for problem in problems:
        what, _, where = problem.partition(" before ")
        for item in what.split(", "):
            seen.setdefault(item, where)
    return "; ".join(f"{item} changed" + (f" (first seen before {where})" if where else "")
                     for item, where in seen.items())


class ZeroUnrunTests(NbGraderPreprocessor):
    """A test cell that never ran (timeout, dead kernel) scores 0, not full marks."""

    def preprocess_cell(self, cell, resources, index):
        unrun = cell.get("execution_count") is None
        if utils.is_grade(cell) and cell.cell_type == "code" and unrun:
            reason = state(resources).get("failure") or "not run"
            cell.outputs.insert(0, error_output(
                "NotRun", f"this test did not run ({reason}); it scores 0"))
        return cell, resources


class ErrorsFirst(NbGraderPreprocessor):
    """Put error and stderr outputs of a test cell first.

    nbgrader scores a test cell by its first telling output; a submission could otherwise put a
    partial-credit result (from a background thread) in front of the test's own traceback.
    """

    def preprocess_cell(self, cell, resources, index):
        if utils.is_grade(cell) and cell.cell_type == "code":
            bad = [o for o in cell.outputs if _is_failure(o)]
            if bad:
                cell.outputs = bad + [o for o in cell.outputs if not _is_failure(o)]
        return cell, resources


def _is_failure(output: NotebookNode) -> bool:
    return output.output_type == "error" or (
        output.output_type == "stream" and output.get("name") == "stderr")


class ZeroOnTampering(NbGraderPreprocessor):
    """Tampering with numpy, coursekit or IPython zeroes every test of the notebook."""

    def preprocess_cell(self, cell, resources, index):
        tampering = state(resources).get("tampering")
        if tampering and utils.is_grade(cell) and cell.cell_type == "code":
            cell.outputs.insert(0, error_output("TamperingDetected", tampering))
        return cell, resources
