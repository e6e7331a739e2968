"""`autograder check ID`: grade a master's own solution and its stubs through the real grading
path before students ever submit.

For each notebook of the assignment two submissions are made from the current release: the
release with the master's answers filled in, and the release as it is (every exercise a stub).
Both are graded by `grade_batch` (sandbox, requests to the kernel, verdicts) into a throw-away
work folder. The master is refused, naming the cell and the reason, when:

* a test cell cannot run in the grader (it calls the student's code itself, a check's probe is
  a closure, an import is missing): the verdict's `GraderError`;
* the solution misses a point (a test that fails on the master's own answer);
* a stub earns a point (a test that passes with nothing implemented);
* either submission does not grade cleanly (a timeout, a dead kernel).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import REPO_ROOT


@dataclass(frozen=True)
class Problem:
    """One reason to refuse a master: where (notebook and cell) and why."""

    notebook: str
    cell: str
    reason: str

    def __str__(self) -> str:
        return f"{self.notebook}.ipynb, cell {self.cell}: {self.reason}"


def check_assignment(assignment: str, root: Path = REPO_ROOT, workers: int = 2,
                     timeout: int = 60, release_folder: Path | None = None) -> list[Problem]:
    """Everything wrong with ``assignment``'s masters as the grader sees them ([] when fine).

    ``release_folder`` is the release to check (default: ``course/<assignment>``)."""
    from autograder.examples.make_examples import answered_release
    from autograder.gradebook.batch import BatchOptions, grade_batch
    from autograder.sandbox.policy import Limits, bwrap_works

    release_folder = release_folder or root / "course" / assignment
    names = sorted(p.stem for p in release_folder.glob("*.ipynb"))
    if not names:
        return [Problem("(none)", "-", f"course/{assignment}/ has no released notebook: run "
                        f"`autograder release {assignment}` first")]
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as folder:
        base = Path(folder)
        for notebook in names:
            stubs = nbformat.read(release_folder / f"{notebook}.ipynb", 4)
            for student, nb in (("solution", answered_release(root, assignment, notebook, stubs)),
                                ("stubs", stubs)):
                path = base / "submitted" / student / assignment / f"{notebook}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path)
        work = base / "work"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            grade_batch(base / "submitted", BatchOptions(
                root=root, work=work, workers=workers,
                limits=Limits(cell_timeout=timeout, wall_clock=10 * timeout),
                require_sandbox=bwrap_works(), progress=False, assignments=[assignment]))
        problems = []
        for notebook in names:
            problems += _judge(work, assignment, notebook)
        return problems


def _judge(work: Path, assignment: str, notebook: str) -> list[Problem]:
    from autograder.grading.steps.verify_grade_cells import VERDICT_KEY
    from autograder.grading.verify import NOT_DONE

    problems = []
    for student in ("solution", "stubs"):
        path = work / "autograded" / student / assignment / f"{notebook}.ipynb"
        if not path.is_file():
            problems.append(Problem(notebook, "-", f"the {student} notebook was not graded "
                                    "(see the grade table of `autograder grade`)"))
            continue
        nb = nbformat.read(path, 4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            verdict = cell.metadata.get(VERDICT_KEY)
            if not (meta.get("grade") and not meta.get("solution") and cell.cell_type == "code"
                    and isinstance(verdict, dict)):
                continue
            grade_id = meta.get("grade_id", "?")
            message = "".join(o.get("evalue", "") for o in cell.get("outputs", [])
                              if o.get("output_type") == "error")[:400]
            if "GraderError" in [o.get("ename") for o in cell.get("outputs", [])]:
                if student == "solution":
                    problems.append(Problem(notebook, grade_id, f"the grader cannot run this "
                                            f"test cell: {message}"))
            elif student == "solution" and verdict.get("outcome") != "passed":
                problems.append(Problem(notebook, grade_id, "the master's own answer fails "
                                        f"this test ({verdict.get('outcome')}): {message}"))
            elif student == "stubs" and verdict.get("outcome") not in (NOT_DONE,) \
                    and verdict.get("outcome") == "passed":
                problems.append(Problem(notebook, grade_id, "this test passes with the "
                                        "exercise not implemented (the stub earns its points)"))
    return problems


def report(assignment: str, problems: list[Problem]) -> str:
    if not problems:
        return (f"{assignment}: the master's answers earn every point, the stubs none, and "
                "every test cell runs in the grader")
    return (f"{assignment}: the masters cannot be released as they are:\n  "
            + "\n  ".join(str(p) for p in problems))
