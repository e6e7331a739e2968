"""`autograder ci` on example submissions in a clean folder, like a fresh runner; then
`autograder merge` of those results, twice."""

from __future__ import annotations

import base64
import csv
import json
import shutil
import sqlite3
from xml.etree import ElementTree as ET

import pytest

from autograder.ci.authenticate import KEY_VARIABLE
from autograder.course import REPO_ROOT, existing_assignments

from .helpers import EXAMPLES, expected_total, finish, start, validator

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("ci-command")]

# (student, how the checkout looks): a GitHub Classroom repository with course/<assignment>/,
# and a plain folder holding one notebook (what students upload to Gradescope).
CASES = {"partly-right": "repository", "broken-notebook": "flat", "deletes-tests": "flat"}
ASSIGNMENT = "01-derivatives"
RESULTS_KEY = "the-ci-secret-of-this-test-0123456789"  # signs results.json for merge


def _checkout(tmp, student: str, shape: str):
    source = EXAMPLES / "submitted" / student / ASSIGNMENT
    if shape == "repository":
        target = tmp / student / "course" / ASSIGNMENT
        shutil.copytree(source, target)
        (tmp / student / "README.md").write_text("my work\n")
        return tmp / student
    target = tmp / student
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not existing_assignments(REPO_ROOT):
        pytest.skip("no master notebooks yet")
    tmp = tmp_path_factory.mktemp("ci")
    procs = {}
    for student, shape in CASES.items():
        checkout = _checkout(tmp / "checkouts", student, shape)
        runner = tmp / "runners" / student  # a fresh, empty working folder per job
        runner.mkdir(parents=True)
        (runner / "github_output").touch()
        procs[student] = (runner, start(
            ["autograder", "ci", str(checkout), "--student", student, "--workers", "1",
             "--timeout", "60"], cwd=runner, GITHUB_OUTPUT=str(runner / "github_output"),
            **{KEY_VARIABLE: RESULTS_KEY}))
    return {student: (runner, *finish(proc)) for student, (runner, proc) in procs.items()}


def test_ci_tells_the_student_what_the_grader_put_back(runs):
    """A notebook graded with cells put back as released says so in the job's own output."""
    _, _, stdout, _ = runs["deletes-tests"]
    assert "note: this notebook lacked 5 cell(s) of the current release" in stdout, stdout


@pytest.mark.parametrize("student", sorted(CASES))
def test_ci_prints_points_and_exits_zero_whatever_the_score(runs, student):
    runner, status, out, err = runs[student]
    assert status == 0, err
    want = expected_total(student, [ASSIGNMENT])
    results = json.loads((runner / "autograder-results" / "results.json").read_text())
    assert f"Points {want:g}/{results['max_score']:g}" in out.splitlines()
    assert results["score"] == want  # the score `make demo` expects (expected.json)


@pytest.mark.parametrize("student", sorted(CASES))
def test_ci_writes_the_three_result_files_in_each_platforms_format(runs, student):
    runner, _, _, _ = runs[student]
    folder = runner / "autograder-results"
    results = json.loads((folder / "results.json").read_text())
    validator("gradescope_results.schema.json").validate(results)
    classroom = json.loads((folder / "classroom.json").read_text())
    validator("classroom_result.schema.json").validate(classroom)
    assert sum(t["score"] for t in classroom["tests"]) == results["score"]
    assert classroom["max_score"] == results["max_score"]
    outcome = json.loads((EXAMPLES / "expected.json").read_text())[student][ASSIGNMENT]
    assert classroom["status"] == ("error" if outcome["outcome"] != "graded" else "fail")
    # GitHub Actions step output: the same JSON, base64-encoded, for the reporter
    line = (runner / "github_output").read_text().strip()
    assert line.startswith("result=")
    assert json.loads(base64.b64decode(line[len("result="):])) == classroom
    suites = ET.parse(folder / "junit.xml").getroot()
    assert suites.tag == "testsuites"
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == max(len(results["tests"]), 1)


def test_hidden_test_output_stays_out_of_the_student_facing_results(runs):
    runner, _, _, _ = runs["partly-right"]
    classroom = json.loads((runner / "autograder-results" / "classroom.json").read_text())
    text = (runner / "autograder-results").joinpath("results.json").read_text()
    assert "BEGIN HIDDEN TESTS" not in text
    hidden = [t for t in classroom["tests"] if "hidden test" in (t["message"] or "")]
    assert hidden, "the masters of 01-derivatives have hidden tests"


def test_ci_exits_nonzero_only_when_grading_cannot_run(tmp_path):
    empty = tmp_path / "not-a-submission"
    empty.mkdir()
    (empty / "notes.txt").write_text("no notebooks here")
    status, out, err = finish(start(["autograder", "ci", str(empty), "--output", "out"],
                                    cwd=tmp_path))
    assert status == 2 and "no notebook of the course" in err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    validator("gradescope_results.schema.json").validate(results)
    assert results["score"] == 0 and "could not run" in results["output"]
    assert json.loads((tmp_path / "out" / "classroom.json").read_text())["status"] == "error"


def _snapshot(work):
    db = sqlite3.connect(work / "gradebook.db")
    try:
        ledger = db.execute("SELECT * FROM autograder_ledger ORDER BY 1, 2").fetchall()
        grades = db.execute("SELECT * FROM grade ORDER BY id").fetchall()
    finally:
        db.close()
    return ledger, grades


def test_merge_folds_results_into_the_gradebook_idempotently(runs, tmp_path):
    artifacts = tmp_path / "artifacts"
    for student, (runner, *_rest) in runs.items():
        shutil.copytree(runner / "autograder-results", artifacts / f"results-{student}")
    work = tmp_path / "class-work"
    argv = ["autograder", "merge", str(artifacts), "--work", str(work), "--output",
            str(tmp_path / "grades")]
    status, out, err = finish(start(argv, cwd=tmp_path, **{KEY_VARIABLE: RESULTS_KEY}))
    assert status == 0, err
    assert f"{len(CASES)} submission(s) merged, 0 unchanged" in out
    first = _snapshot(work), (tmp_path / "grades" / "grades.csv").read_text()

    status, out, err = finish(start(argv, cwd=tmp_path, **{KEY_VARIABLE: RESULTS_KEY}))
    assert status == 0, err
    assert f"0 submission(s) merged, {len(CASES)} unchanged" in out
    assert (_snapshot(work), (tmp_path / "grades" / "grades.csv").read_text()) == first

    with open(tmp_path / "grades" / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    for student in CASES:
        assert float(rows[student][ASSIGNMENT]) == expected_total(student, [ASSIGNMENT])
