"""`make gradescope`: the zip has Gradescope's layout, and its run_autograder, run in an
/autograder-shaped temporary root, writes a results.json that matches Gradescope's documented
fields and the scores `make demo` expects."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile

import pytest

from autograder.ci.bundle import build_zip, unpack
from autograder.course import REPO_ROOT, existing_assignments

from .helpers import EXAMPLES, expected_total, finish, start, validator

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("gradescope-bundle")]

# (student, assignment) graded through the bundle; uploads are the bare notebook files.
SUBMISSIONS = [("perfect", "02-chain-rule"), ("partly-right", "01-derivatives")]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if not existing_assignments(REPO_ROOT):
        pytest.skip("no master notebooks yet")
    return build_zip(tmp_path_factory.mktemp("gradescope"))


@pytest.fixture(scope="module")
def graded(bundle, tmp_path_factory):
    procs = {}
    for student, assignment in SUBMISSIONS:
        root = tmp_path_factory.mktemp(f"autograder-{student}")
        unpack(bundle, root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope
        (root / "submission").mkdir()
        for notebook in (EXAMPLES / "submitted" / student / assignment).glob("*.ipynb"):
            shutil.copy(notebook, root / "submission")
        (root / "submission_metadata.json").write_text(json.dumps(
            {"users": [{"email": f"{student}@example.edu", "id": 1}]}))
        procs[(student, assignment)] = (root, start(
            [str(root / "run_autograder")], cwd=root, AUTOGRADER_ROOT=str(root),
            AUTOGRADER_PYTHON=str(REPO_ROOT / ".venv" / "bin" / "python")
            if (REPO_ROOT / ".venv").exists() else shutil.which("python")))
    return {key: (root, *finish(proc)) for key, (root, proc) in procs.items()}


def test_zip_has_gradescope_layout_and_what_grading_needs(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) for i in zf.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert script in names and modes[script] & stat.S_IXUSR, script
    assert {"pyproject.toml", "autograder/cli.py", "autograder/nbgrader_config.py",
            "course/coursekit/__init__.py", "solutions/gradebook.db"} <= names
    for assignment in existing_assignments(REPO_ROOT):
        assert any(n.startswith(f"solutions/{assignment}/") for n in names), assignment
    assert not any(n.startswith("autograder/examples/submitted") for n in names)
    assert not any("__pycache__" in n for n in names)


def test_make_gradescope_builds_into_the_ignored_output_folder():
    from autograder.ci.bundle import OUTPUT

    assert OUTPUT == REPO_ROOT / "output" / "gradescope"
    assert "output/" in (REPO_ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("key", SUBMISSIONS, ids=lambda k: f"{k[0]}-{k[1]}")
def test_run_autograder_writes_valid_results_with_the_expected_score(graded, key):
    root, status, out, err = graded[key]
    assert status == 0, err
    path = root / "results" / "results.json"
    assert path.exists(), out + err
    results = json.loads(path.read_text())
    validator("gradescope_results.schema.json").validate(results)
    assert results["score"] == expected_total(key[0], [key[1]])
    assert results["tests"] and all({"name", "score", "max_score", "output", "visibility"}
                                    <= set(t) for t in results["tests"])
    assert results["extra_data"]["autograder"]["student"] == key[0]  # from the metadata
    assert f"Points {results['score']:g}/{results['max_score']:g}" in out
