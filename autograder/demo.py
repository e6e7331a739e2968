"""`make demo`: release, build the example class, grade it in parallel, feedback, exports.

Everything is written under `output/demo/` (git-ignored); the grade table printed at the end
names every error and flags any score that differs from `expected.json`.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from traitlets.config import Config

from autograder.course import REPO_ROOT, load_config

if TYPE_CHECKING:
    from autograder.gradebook.record import SubmissionRecord

OUTPUT = REPO_ROOT / "output" / "demo"


def compare(rows: list[SubmissionRecord], expected: dict) -> list[str]:
    """Differences between graded rows and the expected scores/outcomes, one line each."""
    got = {r.key: r for r in rows}
    problems = []
    for student, assignments in sorted(expected.items()):
        for assignment, want in sorted(assignments.items()):
            row = got.get((student, assignment))
            if row is None:
                problems.append(f"{student}/{assignment}: not graded")
            elif (row.score, row.outcome.kind.value) != (want["score"], want["outcome"]):
                problems.append(f"{student}/{assignment}: expected {want['score']:g} "
                                f"({want['outcome']}), got {row.score:g} ({row.outcome.kind})")
    return problems


def run_demo(output: Path = OUTPUT, root: Path = REPO_ROOT, workers: int | None = None,
             timeout: int = 20, progress: bool = True, do_release: bool = True,
             overrides: Config | None = None) -> int:
    """Run the whole demo; 0 when every score matches the expected ones, 1 otherwise.

    `timeout` bounds one cell (the looping example costs that much; it is the demo's
    `Execute.timeout`); a notebook gets 3x that. `overrides` (the command line's
    configuration) and `workers` win over the course's configuration and those two.
    """
    from autograder.authoring.release import release
    from autograder.examples.make_examples import make_examples
    from autograder.exports.all_formats import export_all
    from autograder.exports.feedback import feedback_all
    from autograder.exports.table import grade_table
    from autograder.gradebook.batch import BatchOptions, grade_batch
    from autograder.gradebook.record import ledger_rows

    start = time.monotonic()
    for folder in release(root=root) if do_release else []:
        print(f"released {folder.relative_to(root)}")
    if output.exists():
        shutil.rmtree(output)
    expected = make_examples(output / "class", root)
    print(f"example class: {sum(len(a) for a in expected.values())} submissions of "
          f"{len(expected)} students in {output / 'class'}")
    work = output / "work"
    config = load_config(root, work)
    config.Execute.timeout = timeout
    config.Grader.wall_clock = 3 * timeout
    config.merge(overrides or Config())
    if workers is not None:
        config.Grader.workers = workers
    options = BatchOptions.from_config(config, root, work, progress=progress)
    grade_batch(output / "class" / "submitted", options)
    db_url = config.CourseDirectory.db_url
    rows = ledger_rows(db_url)
    feedback = feedback_all(root, work, output / "feedback")
    exported = export_all(root, work, output / "export")
    print()
    print(grade_table(rows, workers=options.workers))
    print(f"\nfeedback: {len(feedback)} HTML files in {output / 'feedback'}")
    print(f"exports: {', '.join(str(p.relative_to(output)) for p in exported[:3])}, ... "
          f"in {output / 'export'}")
    problems = compare(rows, expected)
    (output / "comparison.json").write_text(json.dumps(problems, indent=1))
    print(f"\nfinished in {time.monotonic() - start:.0f} s")
    if problems:
        print("\nScores that differ from expected.json:\n  " + "\n  ".join(problems))
        return 1
    print("every score matches autograder/examples/expected.json")
    return 0
