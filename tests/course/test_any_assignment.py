"""Assignments are discovered from solutions/ and listed in course.toml; a sixth one added to a
copy of the course flows through release, grade, grades.csv and the manifest (`--root`)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course import (
    REPO_ROOT,
    course_settings,
    discovered_assignments,
    existing_assignments,
)
from tests.grading.fixture_course import master_notebook

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-any-assignment")]

BIN = Path(sys.executable).parent
NEW = "06-squares"


def autograder(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "autograder", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_bundled_course_lists_exactly_its_assignment_folders():
    assert "autodiff" not in discovered_assignments(REPO_ROOT)  # the package holds no masters
    assert list(course_settings(REPO_ROOT).due) == discovered_assignments(REPO_ROOT)
    assert all(course_settings(REPO_ROOT).due.values())  # every one has a due date


def test_a_sixth_assignment_flows_through_release_grade_export_and_manifest(tmp_path):
    root = tmp_path / "course-copy"
    for name in ("solutions/01-derivatives", "solutions/autodiff"):
        shutil.copytree(REPO_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("course.toml", "nbgrader_config.py"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    (root / "solutions" / NEW).mkdir()
    master = master_notebook()
    for cell in master.cells:  # the manifest's convention: an answer's test is test_<answer>
        if cell.metadata["nbgrader"]["grade_id"] == "test_cube_hidden":
            cell.metadata["nbgrader"]["grade_id"] = "test_cube"
    nbformat.write(master, root / "solutions" / NEW / "square.ipynb")
    assert existing_assignments(root) == ["01-derivatives", NEW]

    released = autograder("release", NEW, "--root", str(root))
    assert (root / "course" / NEW / "square.ipynb").is_file()
    assert f"solutions/{NEW} is an assignment course.toml does not list" in released.stderr

    student = nbformat.read(root / "course" / NEW / "square.ipynb", as_version=4)
    for cell in student.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "square":
            cell.source = "def square(x):\n    return x * x\n"
    subs = tmp_path / "submitted" / "ada" / NEW
    subs.mkdir(parents=True)
    nbformat.write(student, subs / "square.ipynb")
    graded = autograder("grade", str(tmp_path / "submitted"), "--root", str(root),
                        "--workers", "1", "--quiet")
    assert any(line.split()[:2] == ["ada", NEW] for line in graded.stdout.splitlines())
    autograder("export", "--root", str(root))
    with open(root / "work" / "export" / "grades.csv") as fh:
        rows = list(csv.DictReader(fh))
    ada = next(r for r in rows if r["student"] == "ada")
    assert float(ada[NEW]) == 3.0  # square's visible and hidden tests; cube left undone

    autograder("manifest", "--root", str(root))
    manifest = json.loads((root / "exercises.json").read_text())
    assert {e["assignment"] for e in manifest} == {"01-derivatives", NEW}
