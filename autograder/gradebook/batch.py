"""Grade a batch: collect, fan notebooks out to worker processes, record as they come back.

One long-lived process pool (workers sized to the cores) executes and scores notebooks; the
parent alone writes the gradebook. Already-recorded submissions whose files did not change are
skipped, so rerunning after a crash or a SIGKILL finishes the batch without grading anything twice.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import hashlib
import multiprocessing
import os
import resource
import signal
import sys
from collections import deque
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
    stale_releases,
)
from autograder.gradebook.record import (
    SubmissionRecord,
    ledger_rows,
    record_submission,
    recorded,
    recorded_bases,
)
from autograder.gradebook.roster import apply_roster, roster
from autograder.grading.options import Grader
from autograder.grading.outcome import WORKER_DIED, Outcome
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
    private_parts,
    protect,
)
from autograder.sandbox.preflight import check_kernels
from autograder.sandbox.runtime import GraderFault
from autograder.sandbox.scratch_quota import writable_folders


@dataclass
class BatchOptions:
    root: Path = REPO_ROOT
    work: Path = REPO_ROOT / "work"
    workers: int = 0  # 0: one per core
    limits: Limits = field(default_factory=Limits)
    require_sandbox: bool = False
    worker_memory_mb: int = 2048  # each worker's memory, RLIMIT_DATA (0: no cap)
    use_bwrap: bool = True
    warm_kernels: bool = True
    pids_cgroup: bool = True
    assignments: list[str] | None = None
    progress: bool = True
    force: bool = False  # regrade every submission found, changed or not
    students: list[str] | None = None  # grade only these students
    notebooks: list[str] | None = None  # regrade only these notebooks (the others are kept)
    config: Config | None = None  # nbgrader's, with the kit's options; None: the course's file

    @classmethod
    def from_config(cls, config: Config, root: Path, work: Path, **kw) -> BatchOptions:
        """Options as the configuration (`c.Grader.*`, `c.Execute.timeout`) gives them."""
        grader = Grader(config=config)
        return cls(root=root, work=work, workers=grader.workers, limits=grader.limits(),
                   require_sandbox=grader.require_sandbox, warm_kernels=grader.warm_kernels,
                   pids_cgroup=grader.pids_cgroup, use_bwrap=grader.bwrap,
                   worker_memory_mb=grader.worker_memory_mb,
                   config=config, **kw)


def make_sandbox(options: BatchOptions) -> Sandbox:
    """The sandbox kernels run in, set up before any kernel starts. Without bwrap, where kernels
    get a uid of their own: the work folder is made private (before the gradebook is created in
    it), and so are the masters, exports and git folder of the course (`private_parts`); the
    folders that uid may write to are found for the quota and the cleanup. Where a promise
    cannot be kept, it is said, and `require_sandbox` refuses."""
    sandbox = Sandbox(hidden=default_hidden(options.root, options.work), limits=options.limits,
                      use_bwrap=options.use_bwrap, warm_kernels=options.warm_kernels,
                      pids_cgroup=options.pids_cgroup)
    if sandbox.isolated:
        return sandbox
    unkept = sandbox.unkept_promises()
    if unkept and options.require_sandbox:
        raise SandboxUnavailable(
            "--require-sandbox: bwrap cannot isolate student code here, and the fallback cannot "
            f"keep its promises: {'; '.join(unkept)}. Install bubblewrap (make system-deps), or "
            "run the grader as root so kernels get a uid of their own, or grade without "
            "--require-sandbox (--Grader.require_sandbox=False for `autograder ci`).")
    if sandbox.kernel_user() is not None:  # the kernel uid must not read what we keep
        work = Path(options.work)
        work.mkdir(parents=True, exist_ok=True, mode=0o700)
        courses = list(dict.fromkeys([Path(options.root).resolve(), REPO_ROOT]))
        private, notes = private_parts(courses, work)
        protect(private)
        unkept += notes
        sandbox = dataclasses.replace(sandbox, writable=writable_folders())
    print("warning: bwrap is not available; student code runs WITHOUT the filesystem and "
          f"network sandbox ({sandbox.isolation})"
          + (f"; NOT KEPT: {'; '.join(unkept)}" if unkept else "") + ".", file=sys.stderr)
    return sandbox


_WORKER: dict = {}


def _init_worker(config: Config, sandbox: Sandbox, memory_mb: int = 0) -> None:
    """Per worker process: die with the parent, keep the parent's configuration, and take at
    most `memory_mb` of memory (the soft limit: kernels it starts set their own).

    The cap is RLIMIT_DATA, the memory a process writes to (heap and private mappings), not
    RLIMIT_AS: a worker's address space also holds reservations nothing ever touches (glibc's
    arena per thread, OpenBLAS's buffers), which put a busy worker over an address-space cap
    with a few hundred MB in use (MemoryError while loading a notebook)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if memory_mb:
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (cap if hard == resource.RLIM_INFINITY
                                                  else min(cap, hard), hard))
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


WORKER_ATTEMPTS = 2  # a notebook whose worker dies is graded once more, in a fresh worker


def _run_slots(tasks: list[NotebookTask], slots: int, config: Config, sandbox: Sandbox,
               memory_mb: int, finish, bar) -> None:
    """Grade `tasks` on `slots` worker processes, one notebook at a time each.

    Each slot is a pool of one worker of its own: a worker that dies (over its memory cap, say)
    breaks only its own pool, which was grading exactly one notebook. That notebook is graded
    again in a fresh worker, and if that one dies too it ends `grader worker died`; no other
    notebook is touched. `GraderFault` stops everything."""
    context = multiprocessing.get_context("fork")

    def fresh() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_init_worker,
                                   initargs=(config, sandbox, memory_mb))

    queue = deque((task, 1) for task in tasks)
    pools = [fresh() for _ in range(slots)]
    running: dict = {}

    def dispatch(slot: int) -> None:
        if queue:
            task, attempt = queue.popleft()
            running[pools[slot].submit(_run, task)] = (slot, task, attempt)

    try:
        for slot in range(slots):
            dispatch(slot)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                slot, task, attempt = running.pop(future)
                try:
                    result = future.result()
                except GraderFault:  # the machine's fault: stop; what is graded is kept
                    bar.close()
                    raise
                except BrokenProcessPool as exc:
                    pools[slot].shutdown(wait=False)
                    pools[slot] = fresh()
                    if attempt < WORKER_ATTEMPTS:
                        queue.appendleft((task, attempt + 1))
                        dispatch(slot)
                        continue
                    result = worker_died_result(task, exc, memory_mb)
                except Exception as exc:
                    result = failed_result(task, "in its worker process", exc)
                finish(result)
                dispatch(slot)
    finally:
        for pool in pools:
            pool.shutdown(wait=not running, cancel_futures=True)


def worker_died_result(task: NotebookTask, exc: BaseException, memory_mb: int) -> NotebookResult:
    """The named outcome of a notebook whose grading process died each time it was graded."""
    cap = f"its {memory_mb} MB memory cap" if memory_mb else "the machine's memory"
    return NotebookResult(task.student, task.assignment, task.notebook, Outcome(
        WORKER_DIED, f"{task.student}/{task.assignment}/{task.notebook}.ipynb: the grading "
        f"process running it died, {WORKER_ATTEMPTS} times (most likely over {cap}, from what "
        f"its kernel sent: a flood of output or messages); the other notebooks were graded in "
        f"their own workers; the tests score 0 ({type(exc).__name__})"))


def coursekit_digest() -> str:
    """Hash of the coursekit the verifier and the kernels import (its checks decide grades)."""
    import coursekit

    h = hashlib.sha256()
    folder = Path(coursekit.__file__).resolve().parent
    for path in sorted(folder.rglob("*.py")):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def grading_basis(masters_digest: str, kit: str, limits: Limits) -> str:
    """What a grade is decided against: the masters, coursekit and the limits. A change to any
    of them makes every grade decided against the old basis stale."""
    h = hashlib.sha256()
    for part in (masters_digest, kit, repr(limits)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _recollect(work: Path, student: str, assignment: str,
               catalogue: dict[str, list[str]]) -> Submission | None:
    """A recorded submission rebuilt from its collected copy (work/submitted/), or None."""
    folder = work / "submitted" / student / assignment
    if not folder.is_dir():
        return None
    stamp = folder / "timestamp.txt"
    sub = Submission(student, assignment, folder,
                     submitted_at=stamp.read_text().strip() if stamp.is_file() else None)
    for notebook in catalogue[assignment]:
        path = folder / f"{notebook}.ipynb"
        sub.notebooks[notebook] = path if path.is_file() else None
        if not path.is_file():
            from autograder.grading.outcome import MISSING, Outcome

            sub.problems[notebook] = Outcome(
                MISSING, f"{student} handed in no {notebook}.ipynb for {assignment}")
    return sub


STAND_IN_KEY = "autograder_stand_in"  # notebook metadata: the release, put in for a named error


def stand_in_notebook(root: Path, result: NotebookResult) -> str | None:
    """For a notebook that could not be graded (a named error), the released notebook with the
    error said at the top, written as its autograded copy: formgrader then lists the
    submission and a grader can open it and give points by hand. None without a release."""
    import nbformat
    from nbformat.v4 import new_markdown_cell

    release = Path(root) / "course" / result.assignment / f"{result.notebook}.ipynb"
    if not release.is_file():
        return None
    nb = nbformat.read(release, as_version=4)
    nb.metadata[STAND_IN_KEY] = str(result.outcome)
    nb.cells.insert(0, new_markdown_cell(
        f"**Not graded automatically: {result.outcome}.** This is the released notebook, put "
        "here so the submission can be graded by hand; every test scores 0."))
    return nbformat.writes(nb)


def _task_of(result: NotebookResult) -> NotebookTask:
    return NotebookTask(result.student, result.assignment, result.notebook, None, None, [], "")


def grade_batch(source: Path, options: BatchOptions) -> list[SubmissionRecord]:
    """Grade every submission under `source`; return the record of each one graded now.

    Skipped: a submission recorded with the same files and the same basis (masters,
    coursekit, limits), unless `force`. Regraded too: every recorded grade of the assignments
    being graded whose basis changed, whichever folder it was graded from (from its collected
    copy in work/submitted/)."""
    root, work = Path(options.root), Path(options.work)
    detect_layout(Path(source))  # refuse a wrong folder before any set-up
    sandbox = make_sandbox(options)
    assignments = options.assignments or existing_assignments(root)
    if not assignments:
        raise RuntimeError(f"no assignments to grade: {root / 'solutions'} has no */*.ipynb")
    db_url = prepare_gradebook(root, work, assignments,
                               say=lambda line: print(f"warning: {line}", file=sys.stderr))
    for assignment in stale_releases(root, db_url, assignments):
        print(f"warning: course/{assignment} is stale: it is not what solutions/{assignment} "
              "releases now, so students may be working from an older release; run `make "
              "release` (autograder release) and hand it out. Grading uses the current masters.",
              file=sys.stderr)
    catalogue_ = catalogue(db_url, assignments)
    if options.notebooks:
        unknown = [n for n in options.notebooks
                   if not any(n in nbs for nbs in catalogue_.values())]
        if unknown:
            raise RuntimeError(f"--notebook {', '.join(unknown)}: no such notebook in "
                               f"{', '.join(assignments)}")
    submissions = collect(Path(source), work / "submitted", catalogue_)
    submissions = apply_roster(submissions, roster(db_url), work,
                               say=lambda line: print(f"note: {line}", file=sys.stderr))
    wanted = set(options.students or [])
    if wanted:
        submissions = [s for s in submissions if s.student in wanted]
    done = recorded(db_url)
    bases_then = recorded_bases(db_url)
    masters = loaded_masters(db_url)
    kit = coursekit_digest()
    basis = {a: grading_basis(masters[a], kit, options.limits) for a in assignments}
    for sub in submissions:  # changed masters (say, a fixed hidden test) mean grading again
        sub.masters_digest = basis[sub.assignment]
    here = {s.key for s in submissions}
    stale_keys = sorted(k for k, b in bases_then.items()
                        if k[1] in basis and b and b != basis[k[1]]
                        and (not wanted or k[0] in wanted))
    elsewhere = []
    lost = []
    for key in stale_keys:
        if key in here:
            continue
        sub = _recollect(work, *key, catalogue_)
        if sub is None:
            lost.append(key)
            continue
        sub.masters_digest = basis[sub.assignment]
        elsewhere.append(sub)
    if stale_keys:
        print(f"{len(stale_keys)} recorded grade(s) are stale (the masters, coursekit or the "
              f"limits changed since they were graded): regrading them"
              + (f", {len(elsewhere)} from the copies collected from earlier folders"
                 if elsewhere else ""), file=sys.stderr)
    for student, assignment in lost:
        print(f"warning: {student}/{assignment} is stale but its collected copy is gone "
              f"({work / 'submitted' / student / assignment}); grade its folder again",
              file=sys.stderr)
    if options.force or options.notebooks:
        todo = list(submissions)
    else:
        todo = [s for s in submissions if done.get(s.key) != s.digest()]
    skipped = len(submissions) - len(todo)
    todo += elsewhere
    kept: dict[tuple[str, str], dict] = {}
    digests = {sub.key: sub.digest() for sub in todo}  # of the whole submission
    if options.notebooks:
        previous = {r.key: r for r in ledger_rows(db_url)}
        todo = [s for s in todo if any(n in s.notebooks for n in options.notebooks)]
        for sub in todo:
            if sub.key in previous and sub.key not in stale_keys:
                kept[sub.key] = {n: nb for n, nb in previous[sub.key].notebooks.items()
                                 if n not in options.notebooks}
                sub.notebooks = {n: p for n, p in sub.notebooks.items()
                                 if n in options.notebooks}
    ids = {}
    tasks: list[NotebookTask] = []
    for sub in todo:
        for notebook, path in sub.notebooks.items():
            if (sub.assignment, notebook) not in ids:
                ids[(sub.assignment, notebook)] = known_cell_ids(db_url, sub.assignment, notebook)
            tasks.append(NotebookTask(sub.student, sub.assignment, notebook,
                                      str(path) if path else None, sub.problems.get(notebook),
                                      ids[(sub.assignment, notebook)], db_url))
    summaries = _execute(tasks, todo, options, sandbox, db_url, work, skipped, kept, digests)
    return summaries


def _execute(tasks, todo: list[Submission], options: BatchOptions, sandbox: Sandbox,
             db_url: str, work: Path, skipped: int,
             kept: dict | None = None,
             digests: dict | None = None) -> list[SubmissionRecord]:
    from tqdm import tqdm

    from autograder.course import course_settings

    settings = course_settings(options.root)
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
        if result.notebook_json is None:
            result.notebook_json = stand_in_notebook(options.root, result)
        results[key].append(result)
        bar.update(1)
        if len(results[key]) == pending[key]:
            sub = by_key[key]
            ordered = sorted(results[key], key=lambda r: r.notebook)
            record = dict(basis=sub.masters_digest, kept=(kept or {}).get(key),
                          late=(settings.late, settings.extensions.get(key)))
            digest = (digests or {}).get(key) or sub.digest()
            autograded = work / "autograded" / sub.student / sub.assignment
            try:
                summary = record_submission(db_url, sub.student, sub.assignment, digest,
                                            ordered, autograded, sub.folder, **record)
            except Exception as exc:  # this submission's record only: the batch goes on
                failed = [failed_result(_task_of(r), "while recording", exc) for r in ordered]
                summary = record_submission(db_url, sub.student, sub.assignment, digest,
                                            failed, autograded, sub.folder, **record)
            summaries.append(summary)
            bar.set_postfix_str(f"{sub.student}/{sub.assignment}: {summary.outcome.kind}")

    config = options.config if options.config is not None else load_config(options.root, work)
    quick = [t for t in tasks if t.path is None or t.problem]
    slow = [t for t in tasks if not (t.path is None or t.problem)]
    if slow:  # a grader that cannot start kernels stops here, before anyone is graded
        check_kernels(sandbox)
    for task in quick:
        finish(grade_notebook(task, None, sandbox))
    if slow:
        _run_slots(slow, min(workers, len(slow)), config, sandbox, options.worker_memory_mb,
                   finish, bar)
    bar.close()
    return sorted(summaries, key=lambda s: s.key)
