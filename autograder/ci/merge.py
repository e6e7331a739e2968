"""`autograder merge`: fold per-submission CI results into the gradebook and grades.csv.

Each result is a `results.json` written by `autograder ci` (one CI job per submission); its
`extra_data.autograder` block carries, per assignment, the submission's content digest, the
ledger detail and the score of every grade cell. A submission whose digest the gradebook already
holds is skipped, so merging the same results twice changes nothing; a changed submission
replaces the old grades (nbgrader's manual scores are kept: `record_submission` never touches
them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.collect.layouts import STUDENT_ID
from autograder.course import existing_assignments
from autograder.gradebook.masters import catalogue, prepare_gradebook
from autograder.gradebook.record import SubmissionRecord, record_submission, recorded
from autograder.grading.pipeline import NotebookResult


class MergeError(ValueError):
    """A results file cannot be merged (not from `autograder ci`, or other masters)."""


@dataclass
class MergeReport:
    merged: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0


def result_files(paths: list[Path]) -> list[Path]:
    """The results.json files named, or found under the folders named (CI artifacts)."""
    found = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found += sorted(path.rglob("results.json"))
        elif path.is_file():
            found.append(path)
        else:
            raise MergeError(f"{path}: no such file or folder")
    return found


def load_result(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        block = data["extra_data"]["autograder"]
        student = block["student"]
        submissions = block["submissions"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MergeError(f"{path}: not a results.json written by `autograder ci` "
                         f"(no extra_data.autograder: {exc})") from exc
    if submissions and (not isinstance(student, str) or not STUDENT_ID.match(student)):
        raise MergeError(f"{path}: '{student}' is not a usable student id")
    return block


def _notebook_results(path: Path, student: str, sub: dict) -> list[NotebookResult]:
    try:
        record = SubmissionRecord.from_detail(student, sub["assignment"], sub["detail"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MergeError(f"{path}: the detail of {sub['assignment']} is not what `autograder "
                         f"ci` writes ({type(exc).__name__}: {exc})") from exc
    results = []
    for name, nb in sorted(record.notebooks.items()):
        grades = sub["grades"].get(name, {})
        results.append(NotebookResult(
            student, sub["assignment"], name, nb.outcome,
            scores=dict(grades.get("scores", {})), max_scores=dict(grades.get("max_scores", {})),
            no_response=list(grades.get("no_response", [])), notebook_json=None,
            seconds=nb.seconds, timings=dict(nb.timings), isolation=nb.isolation))
    return results


def merge_results(paths: list[Path], root: Path, work: Path) -> MergeReport:
    """Record every submission in the results under `work`'s gradebook (idempotent)."""
    report = MergeReport()
    files = result_files(paths)
    report.files = len(files)
    blocks = [(path, load_result(path)) for path in files]
    wanted = sorted({s["assignment"] for _, b in blocks for s in b["submissions"]})
    known = existing_assignments(root)
    for path, block in blocks:
        for sub in block["submissions"]:
            if sub["assignment"] not in known:
                raise MergeError(f"{path}: assignment {sub['assignment']} is not in "
                                 f"{root / 'solutions'}")
    if not wanted:
        return report
    db_url = prepare_gradebook(root, work, wanted)
    notebooks = catalogue(db_url, wanted)
    done = recorded(db_url)
    for path, block in blocks:
        student = block["student"]
        for sub in block["submissions"]:
            key = (student, sub["assignment"])
            extra = set(sub["detail"]["notebooks"]) - set(notebooks[sub["assignment"]])
            if extra:
                raise MergeError(f"{path}: notebooks {sorted(extra)} are not in the masters of "
                                 f"{sub['assignment']}; were they graded with other masters?")
            if done.get(key) == sub["digest"]:
                report.unchanged.append(key)
                continue
            record_submission(db_url, student, sub["assignment"], sub["digest"],
                              _notebook_results(path, student, sub),
                              work / "autograded" / student / sub["assignment"])
            done[key] = sub["digest"]
            report.merged.append(key)
    return report
