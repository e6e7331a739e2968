"""`autograder merge` takes only results the grader made: `autograder ci` signs results.json
with the CI secret ($AUTOGRADER_RESULTS_KEY); a hand-written, edited or unsigned file, and one
whose scores go past the masters' points, is refused with the reason, and the rest is merged.

Through the real command line: `ci` on the fixture course, then `merge`."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.ci.authenticate import KEY_VARIABLE, TAG_FIELD, sign
from tests.grading.fixture_course import ASSIGNMENT, FULL_MARKS, NOTEBOOK, fill, make_course

from .helpers import finish, start

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("ci-merge-auth")]

KEY = "k3y-only-the-ci-jobs-know-0123456789abcdef"


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """ada's submission graded by `autograder ci` with the key set: its results.json."""
    tmp = tmp_path_factory.mktemp("merge-auth")
    root = make_course(tmp / "course")
    checkout = tmp / "ada"
    checkout.mkdir()
    nbformat.write(fill(root), checkout / f"{NOTEBOOK}.ipynb")
    status, out, err = finish(start(
        ["autograder", "ci", str(checkout), "--root", str(root), "--student", "ada",
         "--assignment", ASSIGNMENT, "--workers", "1", "--output", str(tmp / "out")],
        cwd=tmp, **{KEY_VARIABLE: KEY}))
    assert status == 0, err
    assert f"Points {FULL_MARKS:g}/{FULL_MARKS:g}" in out
    return root, json.loads((tmp / "out" / "results.json").read_text())


def _write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data, indent=1))
    return path


def _as(data: dict, student: str) -> dict:
    data = copy.deepcopy(data)
    data["extra_data"]["autograder"]["student"] = student
    return data


def _inflate(data: dict, score: float) -> dict:
    """Every grade cell's score set to `score`, and the totals to match."""
    for sub in data["extra_data"]["autograder"]["submissions"]:
        for grades in sub["grades"].values():
            grades["scores"] = {g: score for g in grades["scores"]}
    data["score"] = score * 10
    return data


def _merge(root: Path, tmp: Path, *paths: Path, key: str | None = KEY):
    env = {KEY_VARIABLE: key} if key is not None else {}
    return finish(start(["autograder", "merge", *map(str, paths), "--root", str(root),
                         "--work", str(tmp / "work"), "--output", str(tmp / "grades")],
                        cwd=tmp, **env))


def test_ci_signs_its_results_with_the_secret(signed):
    _, results = signed
    tag = results["extra_data"][TAG_FIELD]
    assert tag["algorithm"] == "HMAC-SHA256"
    assert sign(copy.deepcopy(results), KEY.encode())["extra_data"][TAG_FIELD] == tag
    assert sign(copy.deepcopy(results), b"another key of enough length")[
        "extra_data"][TAG_FIELD] != tag


def test_merge_refuses_unsigned_edited_and_out_of_range_results_and_merges_the_rest(
        signed, tmp_path):
    root, results = signed
    artifacts = tmp_path / "artifacts"
    genuine = _write(artifacts, "ada", results)
    edited = _write(artifacts, "bob", _inflate(_as(results, "bob"), 600))  # tag kept
    unsigned = _as(_inflate(results, 600), "cy")
    del unsigned["extra_data"][TAG_FIELD]
    handwritten = _write(artifacts, "cy", unsigned)
    # signed with the key, but scored past the masters' points (a grader bug, a leaked key)
    overscored = _write(artifacts, "dee", sign(_inflate(_as(results, "dee"), 600),
                                               KEY.encode()))
    negative = _write(artifacts, "eve", sign(_inflate(_as(results, "eve"), -1), KEY.encode()))

    status, out, err = _merge(root, tmp_path, artifacts)
    assert status == 2, out + err
    assert "5 result file(s): 1 submission(s) merged, 0 unchanged, 4 file(s) refused" in out
    assert f"refused {edited}: authentication failed: the tag does not match" in err
    assert f"refused {handwritten}: unauthenticated: it carries no authentication tag" in err
    assert f"refused {overscored}: out of range: {ASSIGNMENT}/{NOTEBOOK}" in err
    assert "scored 600, but the masters give it 0 to" in err
    assert f"refused {negative}: out of range" in err and "scored -1," in err
    assert str(genuine) not in err
    with open(tmp_path / "grades" / "grades.csv") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) - {"max points"} == {"ada"}
    assert float(rows["ada"][ASSIGNMENT]) == FULL_MARKS
    assert "600" not in (tmp_path / "grades" / "canvas.csv").read_text()


def test_merge_without_the_key_refuses_everything_and_says_what_to_set(signed, tmp_path):
    root, results = signed
    path = _write(tmp_path / "artifacts", "ada", results)
    status, out, err = _merge(root, tmp_path, path, key=None)
    assert status == 2
    assert f"{KEY_VARIABLE} is not set" in err and "autograder/ci/README.md" in err
    assert not (tmp_path / "grades").exists()
    status, out, err = _merge(root, tmp_path, path, key="short")
    assert status == 2 and "use at least 16 random" in err
    shutil.rmtree(tmp_path / "work", ignore_errors=True)
    status, out, err = _merge(root, tmp_path, path, key=KEY[::-1])  # another key
    assert status == 2 and "authentication failed" in err
