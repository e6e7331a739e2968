"""Grade a batch: collect, fan notebooks out to worker processes, record as they come back.

One long-lived process pool (workers sized to the cores) executes and scores notebooks; the
parent alone writes the gradebook. Already-recorded submissions whose files did not change are
skipped, so rerunning after a crash or a SIGKILL finishes the batch without grading anything twice.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import jupyter_core.utils
from traitlets.config import Config

from autograder.collect.submissions import Submission, collect, detect_layout
from autograder.course import REPO_ROOT, existing_assignments, load_config
from autograder.gradebook.masters import (
    catalogue,
    known_cell_ids,
    loaded_masters,
    prepare_gradebook,
)
from autograder.gradebook.record import SubmissionRecord, record_submission, recorded
from autograder.grading.options import Grader
from autograder.grading.pipeline import (
    NotebookResult,
    NotebookTask,
    failed_result,
    grade_notebook,
)
from autograder.sandbox.policy import (
    Limits,
    Sandbox,
    SandboxUnavailable,
    default_hidden,
    protect,
)


@dataclass
class BatchOptions:
    root: Path = REPO_ROOT
    work: Path = REPO_ROOT / "work"
    workers: int = 0  # 0: one per core
    limits: Limits = field(default_factory=Limits)
    require_sandbox: bool = False
    use_bwrap: bool = True
    warm_kernels: bool = True
    assignments: list[str] | None = None
    progress: bool = True
    config: Config | None = None  # nbgrader's, with the kit's options; None: the course's file

    @classmethod
    def from_config(cls, config: Config, root: Path, work: Path, **kw) -> BatchOptions:
        """Options as the configuration (`c.Grader.*`, `c.Execute.timeout`) gives them."""
        grader = Grader(config=config)
        return cls(root=root, work=work, workers=grader.workers, limits=grader.limits(),
                   require_sandbox=grader.require_sandbox, warm_kernels=grader.warm_kernels,
                   config=config, **kw)


def make_sandbox(options: BatchOptions) -> Sandbox:
    sandbox = Sandbox(hidden=default_hidden(options.root, options.work), limits=options.limits,
                      use_bwrap=options.use_bwrap, warm_kernels=options.warm_kernels)
    if not sandbox.isolated:
        if options.require_sandbox:
            raise SandboxUnavailable(
                "--require-sandbox: bwrap is not available or cannot create namespaces here, so "
                "student code cannot be isolated; install bubblewrap (make system-deps) or run "
                "without --require-sandbox to grade with resource limits only.")
        if sandbox.kernel_user() is not None:  # the kernel uid must not read what we keep
            protect([Path(options.root) / "solutions", Path(options.work)])
        print("warning: bwrap is not available; student code runs WITHOUT the filesystem and "
              f"network sandbox ({sandbox.isolation}).", file=sys.stderr)
    return sandbox


_WORKER: dict = {}


def _init_worker(config: Config, sandbox: Sandbox) -> None:
    """Per worker process: die with the parent, keep the parent's configuration."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A fresh event loop: one inherited from the parent (where anything ran a kernel before
    # forking) shares its epoll instance with the parent and the other workers, and their
    # sockets' events land in each other's loops (the workers then spin in zmq).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    jupyter_core.utils._loop.set(loop)
    _WORKER["config"] = config
    _WORKER["sandbox"] = sandbox


def _run(task: NotebookTask) -> NotebookResult:
    return grade_notebook(task, _WORKER["config"], _WORKER["sandbox"])


def _task_of(result: NotebookResult) -> NotebookTask:
    return NotebookTask(result.student, result.assignment, result.notebook, None, None, [], "")


def grade_batch(source: Path, options: BatchOptions) -> list[SubmissionRecord]:
    """Grade every submission under `source`; return the record of each one graded now."""
    root, work = Path(options.root), Path(options.work)
    detect_layout(Path(source))  # refuse a wrong folder before any set-up
    sandbox = make_sandbox(options)
    assignments = options.assignments or existing_assignments(root)
    if not assignments:
        raise RuntimeError(f"no assignments to grade: {root / 'solutions'} has no NN-*/*.ipynb")
    db_url = prepare_gradebook(root, work, assignments)
    submissions = collect(Path(source), work / "submitted", catalogue(db_url, assignments))
    done = recorded(db_url)
    masters = loaded_masters(db_url)
    for sub in submissions:  # changed masters (say, a fixed hidden test) mean grading again
        sub.masters_digest = masters[sub.assignment]
    todo = [s for s in submissions if done.get(s.key) != s.digest()]
    skipped = len(submissions) - len(todo)
    ids = {}
    tasks: list[NotebookTask] = []
    for sub in todo:
        for notebook, path in sub.notebooks.items():
            if (sub.assignment, notebook) not in ids:
                ids[(sub.assignment, notebook)] = known_cell_ids(db_url, sub.assignment, notebook)
            tasks.append(NotebookTask(sub.student, sub.assignment, notebook,
                                      str(path) if path else None, sub.problems.get(notebook),
                                      ids[(sub.assignment, notebook)], db_url))
    summaries = _execute(tasks, todo, options, sandbox, db_url, work, skipped)
    return summaries


def _execute(tasks, todo: list[Submission], options: BatchOptions, sandbox: Sandbox,
             db_url: str, work: Path, skipped: int) -> list[SubmissionRecord]:
    from tqdm import tqdm

    pending = {sub.key: len(sub.notebooks) for sub in todo}
    by_key = {sub.key: sub for sub in todo}
    results: dict[tuple[str, str], list[NotebookResult]] = {k: [] for k in pending}
    summaries = []
    workers = options.workers or os.cpu_count() or 1
    bar = tqdm(total=len(tasks), unit="nb", desc="grading", disable=not options.progress,
               file=sys.stderr, dynamic_ncols=True)
    if skipped:
        bar.write(f"{skipped} submission(s) already graded and unchanged: skipped")

    def finish(result: NotebookResult) -> None:
        key = (result.student, result.assignment)
        results[key].append(result)
        bar.update(1)
        if len(results[key]) == pending[key]:
            sub = by_key[key]
            ordered = sorted(results[key], key=lambda r: r.notebook)
            try:
                summary = record_submission(
                    db_url, sub.student, sub.assignment, sub.digest(), ordered,
                    work / "autograded" / sub.student / sub.assignment)
            except Exception as exc:  # this submission's record only: the batch goes on
                failed = [failed_result(_task_of(r), "while recording", exc) for r in ordered]
                summary = record_submission(
                    db_url, sub.student, sub.assignment, sub.digest(), failed,
                    work / "autograded" / sub.student / sub.assignment)
            summaries.append(summary)
            bar.set_postfix_str(f"{sub.student}/{sub.assignment}: {summary.outcome.kind}")

    config = options.config if options.config is not None else load_config(options.root, work)
    quick = [t for t in tasks if t.path is None or t.problem]
    slow = [t for t in tasks if not (t.path is None or t.problem)]
    for task in quick:
        finish(grade_notebook(task, None, sandbox))
    for attempt in range(2):  # a worker that dies breaks the pool: the rest get a fresh one
        if not slow:
            break
        context = multiprocessing.get_context("fork")
        broken = []
        with ProcessPoolExecutor(max_workers=min(workers, len(slow)), mp_context=context,
                                 initializer=_init_worker,
                                 initargs=(config, sandbox)) as pool:
            futures = {pool.submit(_run, t): t for t in slow}
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = futures.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool as exc:
                        if attempt == 0:
                            broken.append(task)
                            continue
                        result = failed_result(task, "in its worker process", exc)
                    except Exception as exc:
                        result = failed_result(task, "in its worker process", exc)
                    finish(result)
        slow = broken
    bar.close()
    return sorted(summaries, key=lambda s: s.key)
