"""`make demo` end to end: the example class grades to exactly the expected scores."""

from __future__ import annotations

import csv
import json

import pytest

from autograder.course import REPO_ROOT, existing_assignments
from autograder.demo import run_demo
from autograder.examples.make_examples import make_examples

pytestmark = [pytest.mark.grading, pytest.mark.slow, pytest.mark.xdist_group("grading-demo")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if not existing_assignments(REPO_ROOT):
        pytest.skip("no master notebooks yet")
    output = tmp_path_factory.mktemp("demo")
    status = run_demo(output=output, workers=2, timeout=20, progress=False, do_release=False)
    return output, status


def test_every_example_gets_its_expected_score_and_named_outcome(demo, capsys):
    output, status = demo
    problems = json.loads((output / "comparison.json").read_text())
    assert problems == [] and status == 0


def test_exports_cover_every_student_and_assignment(demo):
    output, _ = demo
    expected = json.loads((output / "class" / "expected.json").read_text())
    with open(output / "export" / "grades.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["student"] != "max points"]
    assert sorted(r["student"] for r in rows) == sorted(expected)
    perfect = next(r for r in rows if r["student"] == "perfect")
    assert float(perfect["total"]) == sum(a["score"] for a in expected["perfect"].values())
    results = json.loads((output / "export" / "gradescope" / "perfect" / "01-derivatives" /
                          "results.json").read_text())
    assert {"score", "max_score", "execution_time", "tests"} <= set(results)
    assert {"name", "score", "max_score", "output", "visibility"} <= set(results["tests"][0])
    assert (output / "export" / "junit.xml").read_text().startswith("<?xml")


def test_feedback_has_no_hidden_tests_and_no_grader_cells(demo):
    output, _ = demo
    pages = list((output / "feedback").rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "__autograder" not in text, page


def test_committed_expected_scores_match_the_current_notebooks(tmp_path):
    committed = REPO_ROOT / "autograder" / "examples" / "expected.json"
    fresh = make_examples(tmp_path)
    assert json.loads(committed.read_text()) == fresh, (
        "autograder/examples/ is stale: run `python -m autograder.examples.make_examples`")
