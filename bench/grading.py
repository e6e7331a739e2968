"""Grading throughput: the kit against plain serial `nbgrader autograde`, side by side.

The same class (20 students x every notebook, half perfect, half with the last exercise left as
the stub) is graded by three engines, taking turns assignment by assignment (nbgrader, kit, kit
running every cell, nbgrader, ...) so machine load hits them alike. nbgrader runs as instructors
run it: one `nbgrader autograde <assignment>` command per assignment. The kit runs with its
sandbox on, once as configured (the masters' teaching-only cells skipped) and once with
`SkipTeachingCells` off, which shows what skipping saves. Every gradebook must agree on every
student's score. Then the kit's seconds per notebook and the class estimate, as the grade table
and `autograder report` show them.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course import CONFIG_FILE, REPO_ROOT, existing_assignments, load_config
from autograder.examples.make_examples import answered, notebooks
from autograder.exports.timing import estimate_line, seconds_lines, workers_of
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.gradebook.record import ledger_rows
from autograder.sandbox.policy import Limits, bwrap_works


def _make_class(target: Path, students: int, assignments: list[str]) -> int:
    count = 0
    for i in range(students):
        for assignment in assignments:
            for notebook in notebooks(REPO_ROOT, assignment):
                path = target / f"student{i:02d}" / assignment / f"{notebook}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(answered(REPO_ROOT, assignment, notebook, skip_last=i % 2 == 1),
                               path)
                count += 1
    return count


def _plain_course(folder: Path, submitted: Path) -> None:
    """A course folder for the nbgrader command: the repo's masters, a copy of the class."""
    from autograder.gradebook.masters import prepare_gradebook

    folder.mkdir(parents=True)
    (folder / "solutions").symlink_to(REPO_ROOT / "solutions")
    (folder / "course").symlink_to(REPO_ROOT / "course")
    shutil.copytree(submitted, folder / "work" / "submitted")
    config = CONFIG_FILE.read_text()
    config += (f"\nc.CourseDirectory.root = {str(folder)!r}\n"
               f"c.CourseDirectory.db_url = 'sqlite:///{folder / 'work' / 'gradebook.db'}'\n")
    (folder / "nbgrader_config.py").write_text(config)
    prepare_gradebook(folder, folder / "work", existing_assignments(REPO_ROOT))


def _plain_scores(folder: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'work' / 'gradebook.db'}") as gb:
        return {(s.student.id, s.assignment.name): float(s.score)
                for a in gb.assignments for s in a.submissions}


def main(students: int = 20, workers: int = 0) -> str:
    """Run the benchmark; return a markdown report."""
    assignments = existing_assignments(REPO_ROOT)
    if not assignments:
        return "## Grading throughput\n\nNo master notebooks in solutions/ yet.\n"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        submitted = tmp / "class" / "submitted"
        total = _make_class(submitted, students, assignments)
        plain = tmp / "plain"
        _plain_course(plain, submitted)
        kit_work = tmp / "kit"
        full_work = tmp / "kit-every-cell"
        every_cell = load_config(REPO_ROOT, full_work)
        every_cell.SkipTeachingCells.enabled = False
        rows = []
        for assignment in assignments:
            count = students * len(notebooks(REPO_ROOT, assignment))
            start = time.perf_counter()
            done = subprocess.run([nbgrader, "autograde", assignment, "--force"], cwd=plain,
                                  env=env, capture_output=True, text=True, timeout=3600)
            plain_s = time.perf_counter() - start
            if done.returncode != 0:
                raise RuntimeError(
                    f"nbgrader autograde {assignment} failed:\n{done.stderr[-3000:]}")
            kit_s = _kit(submitted.parent, kit_work, workers, assignment)
            full_s = _kit(submitted.parent, full_work, workers, assignment, every_cell)
            rows.append((assignment, count, plain_s, kit_s, full_s))

        kit_rows = ledger_rows(f"sqlite:///{kit_work / 'gradebook.db'}")
        full_rows = ledger_rows(f"sqlite:///{full_work / 'gradebook.db'}")
        kit_scores = {r.key: r.score for r in kit_rows}
        full_scores = {r.key: r.score for r in full_rows}
        plain_scores = _plain_scores(plain)
        agree = sum(1 for k, v in kit_scores.items()
                    if plain_scores.get(k) == v and full_scores.get(k) == v)
        splits: dict[str, list[float]] = {}
        for r in kit_rows:
            for nb in r.notebooks.values():
                for step, seconds in nb.timings.items():
                    splits.setdefault(step, []).append(seconds)
                splits.setdefault("whole notebook (one worker)", []).append(nb.seconds)
        errors = [f"{r.student}/{r.assignment}: {r.outcome.kind}" for r in kit_rows
                  if not r.outcome.graded]
        slowest = sorted(((nb.seconds, f"{r.student}/{r.assignment}", nb.timings)
                          for r in kit_rows for nb in r.notebooks.values()),
                         key=lambda t: t[0], reverse=True)[:3]
    load_after = os.getloadavg()

    plain_total = sum(r[2] for r in rows)
    kit_total = sum(r[3] for r in rows)
    full_total = sum(r[4] for r in rows)
    lines = [
        "## Grading throughput: kit vs plain serial `nbgrader autograde`",
        "",
        f"{students} students x {total // students} notebooks = {total} notebooks; "
        f"kit workers: {workers or os.cpu_count()} on {os.cpu_count()} cores; sandbox: "
        f"{'bwrap' if bwrap_works() else 'limits only (no bwrap)'}; engines take turns per "
        "assignment.",
        "",
        "| assignment | notebooks | nbgrader (s) | kit (s) | kit, every cell (s) | "
        "nbgrader s/nb | kit s/nb | speed-up | speed-up, every cell |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for assignment, count, plain_s, kit_s, full_s in rows:
        lines.append(f"| {assignment} | {count} | {plain_s:.1f} | {kit_s:.1f} | {full_s:.1f} | "
                     f"{plain_s / count:.2f} | {kit_s / count:.2f} | {plain_s / kit_s:.2f}x | "
                     f"{plain_s / full_s:.2f}x |")
    lines.append(f"| **all** | {total} | {plain_total:.1f} | {kit_total:.1f} | "
                 f"{full_total:.1f} | {plain_total / total:.2f} | {kit_total / total:.2f} | "
                 f"**{plain_total / kit_total:.2f}x** | {plain_total / full_total:.2f}x |")
    lines += ["", f"Throughput: nbgrader {total / plain_total:.2f} notebooks/s, kit "
              f"{total / kit_total:.2f} notebooks/s (target: >= 5x); skipping the masters' "
              f"teaching-only cells makes the kit {full_total / kit_total:.2f}x faster.",
              f"Scores: the three gradebooks agree on {agree} of {len(kit_scores)} "
              "submissions."]
    if errors:
        lines.append(f"Kit named errors: {', '.join(errors[:10])}")
    lines += ["", "Kit time per notebook inside one worker (median, s):", "",
              "| step | median | mean |", "| --- | ---: | ---: |"]
    for step, values in splits.items():
        lines.append(f"| {step} | {statistics.median(values):.2f} | "
                     f"{statistics.fmean(values):.2f} |")
    lines += ["", "Slowest kit notebooks: " + "; ".join(
        f"{who} {seconds:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in t.items())})"
        for seconds, who, t in slowest)]
    lines += ["", "Kit grading time per notebook, as the grade table and `autograder report` "
              "show it:", "", estimate_line(kit_rows, workers_of(workers)),
              *seconds_lines(kit_rows), "", "The same with every cell run (SkipTeachingCells "
              "off):", "", estimate_line(full_rows, workers_of(workers)),
              *seconds_lines(full_rows)]
    lines += ["", f"Load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} "
              "(other work on the machine slows both engines alike)."]
    return "\n".join(lines) + "\n"


def _kit(submitted: Path, work: Path, workers: int, assignment: str, config=None) -> float:
    """Seconds the kit takes to grade one assignment of the class (sandbox on)."""
    start = time.perf_counter()
    grade_batch(submitted, BatchOptions(
        root=REPO_ROOT, work=work, workers=workers, assignments=[assignment],
        progress=False, require_sandbox=bwrap_works(),
        limits=Limits(cell_timeout=60, wall_clock=180), config=config))
    return time.perf_counter() - start


if __name__ == "__main__":
    print(main(*(int(a) for a in sys.argv[1:])))
