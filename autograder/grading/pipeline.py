"""Grade one notebook: load -> sanitize -> execute in the sandbox -> score.

`grade_notebook` is what a worker process runs; it touches the gradebook only to read the
masters' cells (nbgrader's OverwriteCells). Recording is the parent's job
(`autograder.gradebook.record`). The kit's own steps (`autograder.grading.steps`, one a module)
run around nbgrader's, in the order `Grader.sanitize_steps` and `Grader.score_steps` give
(`autograder.grading.options`), each called as nbgrader calls a preprocessor (so a step whose
`enabled` is False is skipped):

    sanitize:  StripForeignGradeIds, ClearOutput, DeduplicateIds, RestoreMissingCells,
               OverwriteKernelspec, OverwriteCells, CheckCellMetadata, SkipTeachingCells
    execute:   SandboxedExecute (the kernel records what the student's code returns; the
               master's teaching-only cells that nothing after them reads are not run)
    score:     VerifyGradeCells (decides every test cell here, from the records), LimitOutput
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader import utils
from traitlets.config import Config

from autograder.grading.inert_html import make_inert
from autograder.grading.load import load_notebook
from autograder.grading.options import Grader
from autograder.grading.outcome import (
    DISK_QUOTA,
    GRADER_ERROR,
    KERNEL_DIED,
    MEMORY,
    NOT_A_NOTEBOOK,
    TIMED_OUT,
    Kind,
    Outcome,
)
from autograder.grading.state import state
from autograder.grading.steps.sandboxed_execute import SandboxedExecute
from autograder.sandbox.policy import Sandbox
from autograder.sandbox.runtime import GraderFault
from autograder.sandbox.warm_kernels import discard_zygote


@dataclass
class NotebookTask:
    student: str
    assignment: str
    notebook: str
    path: str | None
    problem: Outcome | None  # a named error found while collecting
    known_ids: list[str]
    db_url: str


@dataclass
class NotebookResult:
    student: str
    assignment: str
    notebook: str
    outcome: Outcome  # graded, or the named error and what happened
    scores: dict[str, float | None] = field(default_factory=dict)  # grade_id -> auto score
    max_scores: dict[str, float] = field(default_factory=dict)
    no_response: list[str] = field(default_factory=list)  # solution cells left as released
    notebook_json: str | None = None  # the autograded notebook
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds
    isolation: str = ""  # what isolated its kernel (`Sandbox.isolation`); "" if none ran
    warnings: list[str] = field(default_factory=list)  # graded, but the student should know

    @property
    def score(self) -> float:
        return float(sum(s or 0 for s in self.scores.values()))


def grade_notebook(task: NotebookTask, config: Config, sandbox: Sandbox) -> NotebookResult:
    """Run one submitted notebook through the pipeline; never raises: whatever goes wrong for
    this submission (in loading, sanitising, executing or scoring it) is its named error,
    with the exception's type, and the batch goes on."""
    start = time.monotonic()
    phase = ["load"]
    try:
        return _grade_notebook(task, config, sandbox, phase)
    except GraderFault:
        raise  # not this submission's: the batch stops and says what to fix
    except Exception as exc:
        return failed_result(task, f"while {phase[0]}", exc, time.monotonic() - start)


def failed_result(task: NotebookTask, when: str, exc: BaseException,
                  seconds: float = 0.0) -> NotebookResult:
    """The result of a notebook the grader failed on: no score, a named error saying where
    and what (the exception's type and message)."""
    detail = f"{task.student}/{task.assignment}/{task.notebook}.ipynb: the grader failed " \
             f"{when} ({type(exc).__name__}: {str(exc)[:200]}); the tests score 0"
    return NotebookResult(task.student, task.assignment, task.notebook,
                          Outcome(GRADER_ERROR, _printable(detail)), seconds=seconds)


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _grade_notebook(task: NotebookTask, config: Config, sandbox: Sandbox,
                    phase: list[str]) -> NotebookResult:
    start = time.monotonic()
    result = NotebookResult(task.student, task.assignment, task.notebook,
                            task.problem or Outcome())
    nb = None
    if task.problem is None:
        limits = sandbox.limits
        nb, problem = load_notebook(Path(task.path), task.student, task.assignment,
                                    max_bytes=limits.notebook_mb * 1024 * 1024,
                                    max_cells=limits.notebook_cells)
        result.outcome = problem or result.outcome
    if nb is None:
        result.seconds = time.monotonic() - start
        return result
    resources = {
        "nbgrader": {"notebook": task.notebook, "assignment": task.assignment,
                     "student": task.student, "db_url": task.db_url},
        "autograder": {"known_ids": set(task.known_ids)},
        "metadata": {"path": "."},
    }
    phase[0] = "sanitising"
    try:
        nb, resources = sanitize_notebook(nb, resources, config)
    except Exception as exc:  # nbgrader's metadata validation of a mangled notebook
        result.outcome = Outcome(NOT_A_NOTEBOOK, f"{task.student}/{task.assignment}/"
                                 f"{task.notebook}.ipynb could not be repaired "
                                 f"({type(exc).__name__}: {exc})")
        result.seconds = time.monotonic() - start
        return result
    sanitized = time.monotonic()
    result.timings["load + sanitize"] = sanitized - start
    phase[0] = "executing"
    result.isolation = sandbox.isolation
    nb, resources = execute_notebook(nb, resources, config, sandbox)
    result.timings.update(resources["autograder"].get("timings", {}))
    result.isolation = resources["autograder"].get("isolation", result.isolation)
    executed = time.monotonic()
    phase[0] = "scoring"
    nb, resources = score_notebook(nb, resources, config)
    failure = resources["autograder"].get("failure")
    broken = {grade_id: verdict.message for grade_id, verdict
              in resources["autograder"].get("verdicts", {}).items()
              if verdict.ename == "GraderError"}
    if broken and not failure:  # the master's fault, never the student's silent 0
        first = next(iter(broken.values()))
        result.outcome = Outcome(GRADER_ERROR, _printable(
            f"the grader could not run the master's test cell(s) {', '.join(sorted(broken))} "
            f"({first[:200]}); those tests score 0: fix the master, check it with "
            f"`autograder check {task.assignment}`, then regrade with --force"))
    if failure:
        kind = Kind(failure)
        detail = _failure_detail(kind, sandbox,
                                 stopped=bool(resources["autograder"].get("stopped")))
        result.outcome = Outcome(kind, detail)
    for cell in nb.cells:
        if utils.is_grade(cell):
            grade_id = cell.metadata.nbgrader["grade_id"]
            score, max_score = utils.determine_grade(cell)
            result.scores[grade_id] = score
            result.max_scores[grade_id] = max_score
        if utils.is_solution(cell) and cell.metadata.nbgrader.get(
                "checksum") == utils.compute_checksum(cell):
            result.no_response.append(cell.metadata.nbgrader["grade_id"])
    phase[0] = "writing the autograded notebook"
    result.warnings += resources["autograder"].get("warnings", [])  # what any step noted
    for warning in result.warnings:  # on the page formgrader and both feedback paths render
        nb.cells.insert(0, new_markdown_cell(f"**Note from the grader:** {warning}",
                                             metadata={"autograder_note": True}))
    result.notebook_json = nbformat.writes(make_inert(nb))  # an instructor opens it
    result.seconds = time.monotonic() - start
    result.timings["verify + score"] = time.monotonic() - executed
    return result


START_ATTEMPTS = 2


def execute_notebook(nb: NotebookNode, resources: dict, config: Config,
                     sandbox: Sandbox) -> tuple[NotebookNode, dict]:
    """`SandboxedExecute`, again in a fresh sandbox if the kernel could not start.

    A kernel that never answered failed before any student code ran: that is the grader's
    fault (a broken zygote, a full disk), never the submission's `kernel died`. After
    `START_ATTEMPTS` such starts, `GraderFault` stops the batch."""
    before = dict(state(resources))
    for _ in range(START_ATTEMPTS):
        resources["autograder"] = dict(before)
        executor = SandboxedExecute(config=config, sandbox=sandbox)
        nb, resources = executor(nb, resources)
        start_error = state(resources).pop("start_error", None)
        km = getattr(executor, "_sandbox_km", None)
        if start_error is None or (km is not None and km.answered):
            return nb, resources  # (an error after the kernel answered is the notebook's)
        discard_zygote()
    raise GraderFault(
        f"a kernel could not start (twice, before any student code ran: {start_error}); this "
        "is the grading machine's fault, not a submission's, so grading stopped. Check free "
        "disk space, the temporary folder (TMPDIR) and the memory limit, then grade again: "
        "what was graded is kept.")


def sanitize_notebook(nb: NotebookNode, resources: dict,
                      config: Config) -> tuple[NotebookNode, dict]:
    """Run `Grader.sanitize_steps` in order, as nbgrader runs a preprocessor (`enabled` holds).

    Raises whatever a step raises on a notebook it cannot repair."""
    options = Grader(config=config)
    for step in options.steps(options.sanitize_steps):
        nb, resources = step(config=config)(nb, resources)
        nb = nbformat.from_dict(nb)  # re-inserted cells come back as plain dicts
    return nb, resources


def score_notebook(nb: NotebookNode, resources: dict, config: Config) -> tuple[NotebookNode, dict]:
    """Run `Grader.score_steps` in order on an executed notebook (`enabled` holds)."""
    options = Grader(config=config)
    for step in options.steps(options.score_steps):
        nb, resources = step(config=config)(nb, resources)
    return nb, resources


def _failure_detail(failure: Kind, sandbox: Sandbox, stopped: bool = True) -> str:
    limits = sandbox.limits
    if failure is TIMED_OUT and not stopped:
        return (f"a cell ran longer than {limits.cell_timeout} s and was interrupted; the cells "
                "after it still ran and were graded")
    return {
        TIMED_OUT: f"stopped after {limits.cell_timeout} s in one cell (it ignored the "
                     f"interrupt) or {limits.wall_clock} s for the notebook; the tests after "
                     "that point did not run and score 0",
        MEMORY: f"went over the {limits.memory_mb} MB memory limit",
        DISK_QUOTA: f"wrote more than the {limits.scratch_mb} MB disk quota (its working "
                    "folder, /tmp, /var/tmp and /dev/shm together; one file at most "
                    f"{limits.file_size_mb} MB); the kernel was stopped, the tests after that "
                    "point did not run and score 0",
        KERNEL_DIED: "the kernel exited or crashed (os._exit, a signal, a crash, or the "
                       f"{limits.cpu_seconds} s CPU-time limit); the tests after that point "
                       "did not run and score 0",
    }.get(failure, str(failure))
