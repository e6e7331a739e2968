"""`autograder ci`: grade one submission on a fresh CI runner and report it three ways.

A runner starts with no gradebook: the masters (hidden tests included) come from `--root`, the
instructor's checkout or the Gradescope bundle, and the gradebook is built in a throw-away work
folder. The submission goes through the same batch pipeline as `autograder grade` (collect ->
sanitize -> sandboxed execution -> score -> record), so it gets the score `make demo` gives it.

Written afterwards:

- GitHub Classroom's autograding result (`classroom.json`, and base64-encoded as the step output
  `result` when `$GITHUB_OUTPUT` is set), the JSON `autograding-grading-reporter` reads;
- Gradescope's `results.json` (`autograder.exports.gradescope.combine`; `extra_data` carries
  what `autograder merge` needs to fold the result into an instructor's gradebook);
- JUnit XML (`autograder.exports.junit`).

Exit status: 0 when grading ran, whatever the score; 2 when it could not run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from traitlets.config import Config

from autograder.ci.authenticate import KEY_VARIABLE, KeyProblem, results_key, sign
from autograder.collect.layouts import STUDENT_ID, LayoutError
from autograder.collect.submissions import place
from autograder.course import REPO_ROOT, existing_assignments, load_config
from autograder.exports.classroom import classroom_result
from autograder.exports.gradescope import combine, failure_results
from autograder.exports.junit import failure_document, junit_document
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.gradebook.record import SubmissionRecord, ledger_rows, recorded
from autograder.sandbox.policy import SandboxUnavailable

#: Files bigger than this in a student's checkout are not copied for grading (data, binaries).
MAX_FILE_BYTES = 20 * 1024 * 1024


class GradingFailed(RuntimeError):
    """Grading could not run (no notebooks, no masters, no sandbox when one is required)."""


@dataclass
class CIOptions:
    root: Path = REPO_ROOT
    work: Path | None = None  # None: a temporary folder, removed afterwards
    student: str | None = None
    assignments: list[str] | None = None
    overrides: Config = field(default_factory=Config)  # over the course's nbgrader_config.py
    outputs: dict[str, Path] = field(default_factory=dict)  # classroom / gradescope / junit
    gradebook: Path | None = None  # a gradebook with the masters loaded already (the bundle's)
    key: bytes | None = None  # signs results.json for `autograder merge` (the CI secret)


def guess_student(path: Path) -> str:
    """A student id for the submission: CI variables, Gradescope's metadata, the folder name."""
    candidates = [os.environ.get("AUTOGRADER_STUDENT"), os.environ.get("GITHUB_ACTOR"),
                  os.environ.get("GITLAB_USER_LOGIN")]
    metadata = path.parent / "submission_metadata.json"  # Gradescope: /autograder/
    if metadata.is_file():
        try:
            users = json.loads(metadata.read_text()).get("users") or []
            candidates += [str(u.get("email", "")).split("@")[0] or str(u.get("id", ""))
                           for u in users[:1]]
        except (ValueError, AttributeError):
            pass
    candidates.append(path.resolve().name)
    for candidate in candidates:
        if candidate:
            cleaned = re.sub(r"[^A-Za-z0-9_.@+-]", "-", candidate).strip("-.")
            if STUDENT_ID.match(cleaned or "-"):
                return cleaned
    return "student"


def _stage(path: Path, staging: Path, student: str) -> None:
    """Copy the submission as one student's "repository clone" for `collect`."""
    if not path.is_dir():
        raise GradingFailed(f"{path} is not a folder: pass the student's repository checkout or "
                            "a folder holding the submitted notebooks")

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n.startswith(".") or n in ("__pycache__", "node_modules")
                or (os.path.isfile(os.path.join(folder, n))
                    and os.path.getsize(os.path.join(folder, n)) > MAX_FILE_BYTES)]

    tree = staging / student
    shutil.copytree(path, tree, ignore=ignore, symlinks=True)
    (tree / ".git").mkdir(exist_ok=True)  # collect's clone layout: notebooks found by name


def submitted_assignments(tree: Path, root: Path) -> list[str]:
    """The assignments the staged submission hands anything in for (so only those are prepared:
    loading one assignment's masters into a fresh gradebook costs seconds)."""
    masters = {a: sorted(p.stem for p in (root / "solutions" / a).glob("*.ipynb"))
               for a in existing_assignments(root)}
    return [a for a in masters if a in place(tree, masters)]










def default_outputs(folder: Path) -> dict[str, Path]:
    return {"classroom": folder / "classroom.json", "gradescope": folder / "results.json",
            "junit": folder / "junit.xml"}


def write_outputs(results: dict, junit: ET.ElementTree, outputs: dict[str, Path]) -> None:
    classroom = classroom_result(results)
    for path in outputs.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    outputs["gradescope"].write_text(json.dumps(results, indent=1))
    outputs["classroom"].write_text(json.dumps(classroom, indent=1))
    junit.write(outputs["junit"], encoding="utf-8", xml_declaration=True)
    encoded = base64.b64encode(json.dumps(classroom).encode()).decode()
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as out:
            out.write(f"result={encoded}\n")


def failure_outputs(message: str, outputs: dict[str, Path]) -> None:
    """When grading could not run, the platforms still get a readable zero."""
    results = failure_results(message)
    try:
        write_outputs(results, failure_document(results["output"]), outputs)
    except OSError:
        pass


def grade_submission(path: Path, options: CIOptions) -> dict:
    """Grade the notebooks under `path`; return the combined Gradescope results (see combine)."""
    root = Path(options.root).resolve()
    if not existing_assignments(root):
        raise GradingFailed(f"no master notebooks under {root / 'solutions'}: pass --root, the "
                            "instructor repository or the unpacked Gradescope bundle")
    scratch = None
    if options.work is None:
        scratch = Path(tempfile.mkdtemp(prefix="autograder-ci-"))
    work = Path(options.work or scratch).resolve()
    try:
        student = options.student or guess_student(path)
        staging = work / "ci-submission"
        shutil.rmtree(staging, ignore_errors=True)
        _stage(Path(path), staging, student)
        assignments = options.assignments or submitted_assignments(staging / student, root)
        if not assignments:
            raise GradingFailed(f"no notebook of the course was found under {path} (looked for "
                                f"{', '.join(existing_assignments(root))} notebooks by folder "
                                "and by name)")
        if options.gradebook is not None and Path(options.gradebook).is_file():
            work.mkdir(parents=True, exist_ok=True)
            if not (work / "gradebook.db").exists():
                shutil.copyfile(options.gradebook, work / "gradebook.db")
        config = load_config(root, work)
        config.Grader.require_sandbox = True  # refuse a fallback that cannot keep its promises
        config.merge(options.overrides)  # (--Grader.require_sandbox=False grades anyway)
        grade_batch(staging, BatchOptions.from_config(config, root, work,
                                                      assignments=assignments, progress=False))
        db_url = config.CourseDirectory.db_url
        rows = [r for r in ledger_rows(db_url) if r.student == student]
        results = combine(rows, work, db_url, recorded(db_url))
        results["extra_data"]["autograder"]["student"] = student
        if options.key is not None:
            sign(results, options.key)
        outputs = options.outputs or default_outputs(Path("autograder-results"))
        write_outputs(results, junit_document(rows, work), outputs)
        return results
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def summary_lines(results: dict) -> list[str]:
    """One line per assignment graded, then one per named error."""
    block = results["extra_data"]["autograder"]
    lines = []
    for sub in block["submissions"]:
        row = SubmissionRecord.from_detail(block["student"], sub["assignment"], sub["detail"])
        lines.append(f"  {row.assignment}: {row.score:g}/{row.max_score:g} "
                     f"({row.outcome.kind})")
        lines += [f"    {name}: {outcome}" for name, outcome in row.errors]
        lines += [f"    {name}: note: {warning}" for name, notebook in row.notebooks.items()
                  for warning in notebook.warnings]  # e.g. cells put back as released
        isolation = sorted({nb.isolation for nb in row.notebooks.values() if nb.isolation})
        if isolation:
            lines.append(f"    kernel isolation: {' | '.join(isolation)}")
    return lines


def run_ci(path: Path, options: CIOptions) -> int:
    """The command: grade, print "Points X/Y", write the three result files."""
    outputs = options.outputs or default_outputs(Path("autograder-results"))
    options.outputs = outputs
    try:
        options.key = options.key or results_key()
    except KeyProblem as exc:
        print(f"autograder ci: grading could not run: {exc}", file=sys.stderr)
        failure_outputs(str(exc), outputs)
        return 2
    os.environ.pop(KEY_VARIABLE, None)  # nothing started from here on needs it
    if options.key is None:
        print(f"autograder ci: note: {KEY_VARIABLE} is not set, so results.json is not "
              "signed and `autograder merge` will refuse it (fine for feedback-only runs)",
              file=sys.stderr)
    try:
        results = grade_submission(path, options)
    except (GradingFailed, LayoutError, SandboxUnavailable, OSError, RuntimeError) as exc:
        print(f"autograder ci: grading could not run: {exc}", file=sys.stderr)
        failure_outputs(str(exc), outputs)
        return 2
    print("\n".join(summary_lines(results)))
    if not results["extra_data"]["autograder"]["submissions"]:
        print(f"autograder ci: {results['output']} under {path}", file=sys.stderr)
        return 2
    print(f"Points {results['score']:g}/{results['max_score']:g}")
    print("results: " + ", ".join(str(p) for p in outputs.values()))
    return 0
