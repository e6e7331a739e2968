"""`autograder merge`: fold per-submission CI results into the gradebook and grades.csv.

Each result is a `results.json` written by `autograder ci` (one CI job per submission); its
`extra_data.autograder` block carries, per assignment, the submission's content digest, the
ledger detail and the score of every grade cell. A submission whose digest the gradebook already
holds is skipped, so merging the same results twice changes nothing; a changed submission
replaces the old grades (nbgrader's manual scores are kept: `record_submission` never touches
them).

Only results the grader made are merged: each file must carry the authentication tag `ci`
computed with the CI secret (`autograder.ci.authenticate`), and every grade cell's score must lie
between 0 and the points the masters give it. A file that fails either is refused, with the
reason, and the others are merged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from autograder.ci.authenticate import KEY_VARIABLE, check
from autograder.collect.layouts import STUDENT_ID
from autograder.course import existing_assignments
from autograder.gradebook.masters import catalogue, grade_cell_points, prepare_gradebook
from autograder.gradebook.record import SubmissionRecord, record_submission, recorded
from autograder.grading.pipeline import NotebookResult


class MergeError(ValueError):
    """A results file cannot be merged (not from `autograder ci`, or other masters)."""


@dataclass
class MergeReport:
    merged: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0
    refused: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)


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


def load_result(path: Path, key: bytes) -> dict:
    """The `extra_data.autograder` block of an authenticated results.json; `MergeError` with
    the reason otherwise."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MergeError(f"{path}: not a JSON file ({exc})") from exc
    problem = check(data, key)
    if problem:
        raise MergeError(f"{path}: {problem}")
    try:
        block = data["extra_data"]["autograder"]
        student = block["student"]
        submissions = block["submissions"]
    except (KeyError, TypeError) as exc:
        raise MergeError(f"{path}: not a results.json written by `autograder ci` "
                         f"(no extra_data.autograder: {exc})") from exc
    if submissions and (not isinstance(student, str) or not STUDENT_ID.match(student)):
        raise MergeError(f"{path}: '{student}' is not a usable student id")
    return block


def check_scores(path: Path, sub: dict, points: dict[str, dict[str, float]]) -> None:
    """`MergeError` unless every grade cell's score is a number from 0 to the points the
    masters give that cell (None: to be graded by hand), for grade cells the masters have."""
    assignment = sub["assignment"]
    for notebook, grades in sub["grades"].items():
        if notebook not in points:
            raise MergeError(f"{path}: notebook {notebook!r} is not in the masters of "
                             f"{assignment}")
        for grade_id, score in dict(grades.get("scores", {})).items():
            if grade_id not in points[notebook]:
                raise MergeError(f"{path}: {assignment}/{notebook} has no grade cell "
                                 f"{grade_id!r} in the masters")
            most = points[notebook][grade_id]
            if score is None:
                continue
            if (isinstance(score, bool) or not isinstance(score, (int, float))
                    or not math.isfinite(score) or not 0 <= score <= most):
                raise MergeError(f"{path}: out of range: {assignment}/{notebook} "
                                 f"{grade_id} scored {score!r}, but the masters give it "
                                 f"0 to {most:g} points")


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


def merge_results(paths: list[Path], root: Path, work: Path,
                  key: bytes | None) -> MergeReport:
    """Record every submission of the authenticated, in-range results under `work`'s
    gradebook (idempotent); refuse the others, each with its reason."""
    if key is None:
        raise MergeError(f"{KEY_VARIABLE} is not set: merge takes only results signed with the "
                         "key the CI jobs graded with; set it to that secret (see "
                         "autograder/ci/README.md)")
    report = MergeReport()
    files = result_files(paths)
    report.files = len(files)
    known = existing_assignments(root)
    blocks = []
    for path in files:
        try:
            block = load_result(path, key)
            for sub in block["submissions"]:
                if sub["assignment"] not in known:
                    raise MergeError(f"{path}: assignment {sub['assignment']} is not in "
                                     f"{root / 'solutions'}")
        except (MergeError, KeyError, TypeError) as exc:
            report.refused.append((path, str(exc)))
            continue
        blocks.append((path, block))
    wanted = sorted({s["assignment"] for _, b in blocks for s in b["submissions"]})
    if not wanted:
        return report
    db_url = prepare_gradebook(root, work, wanted)
    notebooks = catalogue(db_url, wanted)
    points = {a: grade_cell_points(db_url, a) for a in wanted}
    done = recorded(db_url)
    for path, block in blocks:
        student = block["student"]
        try:
            for sub in block["submissions"]:
                extra = set(sub["detail"]["notebooks"]) - set(notebooks[sub["assignment"]])
                if extra:
                    raise MergeError(f"{path}: notebooks {sorted(extra)} are not in the masters "
                                     f"of {sub['assignment']}; were they graded with other "
                                     "masters?")
                check_scores(path, sub, points[sub["assignment"]])
            results = {sub["assignment"]: _notebook_results(path, student, sub)
                       for sub in block["submissions"]}
        except (MergeError, KeyError, TypeError, AttributeError) as exc:
            report.refused.append((path, str(exc)))
            continue
        for sub in block["submissions"]:
            key_ = (student, sub["assignment"])
            if done.get(key_) == sub["digest"]:
                report.unchanged.append(key_)
                continue
            record_submission(db_url, student, sub["assignment"], sub["digest"],
                              results[sub["assignment"]],
                              work / "autograded" / student / sub["assignment"])
            done[key_] = sub["digest"]
            report.merged.append(key_)
    return report
