"""nbgrader's own feedback path (generate_feedback, release_feedback, fetch_feedback) follows
the kit's rule: no hidden test source, no kernel output, each test cell its points and verdict.

Driven with nbgrader's real commands on a tiny course in a temporary folder: the instructor
releases through the exchange, a student fetches, fills in one answer and submits, the kit
grades the exchange, then nbgrader generates, releases and the student fetches the feedback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course import REPO_ROOT
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, make_course

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-feedback")]

BIN = Path(sys.executable).parent
HIDDEN_SOURCE = "[(-1.5,), (0.25,), (2.0,)]"  # the fixture's hidden test of square


def nbgrader(cwd: Path, *args: str, exchange: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(BIN / "nbgrader"), *args, f"--Exchange.root={exchange}",
                           f"--Exchange.cache={exchange.parent / 'cache'}"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def course_copy(tmp: Path) -> Path:
    root = make_course(tmp / "course-root")
    shutil.copyfile(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def test_nbgrader_feedback_shows_verdicts_only_and_goes_through_the_exchange(tmp_path):
    root = course_copy(tmp_path)
    exchange = tmp_path / "exchange"
    nbgrader(root, "release_assignment", ASSIGNMENT, exchange=exchange)
    home = tmp_path / "ada"
    home.mkdir()
    nbgrader(home, "fetch_assignment", ASSIGNMENT, "--course=autodiff", exchange=exchange)
    path = home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # square right, cube left as released (its hidden test fails)
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "square":
            cell.source = "def square(x):\n    return x * x\n"
    nbformat.write(nb, path)
    nbgrader(home, "submit", ASSIGNMENT, "--course=autodiff", "--student=ada", exchange=exchange)

    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    graded = subprocess.run([sys.executable, "-m", "autograder", "grade",
                             str(exchange / "autodiff" / "inbound"), "--root", str(root),
                             "--workers", "1", "--quiet"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    autograded = root / "work" / "autograded" / "ada" / ASSIGNMENT
    assert (autograded / "timestamp.txt").read_text() == (
        root / "work" / "submitted" / "ada" / ASSIGNMENT / "timestamp.txt").read_text()
    assert (autograded / "submission_secret.txt").is_file()

    nbgrader(root, "generate_feedback", ASSIGNMENT, exchange=exchange)
    page = (root / "work" / "feedback" / "ada" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert HIDDEN_SOURCE not in page and "BEGIN HIDDEN TESTS" not in page
    assert "3 / 3 points" not in page  # nothing scored from the kernel's own say-so
    assert "2 / 2 points — passed" in page  # the hidden test of square: its verdict only
    assert "0 / 1 points — not implemented" in page  # cube's hidden test
    assert "Traceback (most recent call last)" not in page and "ename" not in page

    nbgrader(root, "release_feedback", ASSIGNMENT, exchange=exchange)
    nbgrader(home, "fetch_feedback", ASSIGNMENT, "--course=autodiff", exchange=exchange)
    fetched = list((home / ASSIGNMENT / "feedback").rglob(f"{NOTEBOOK}.html"))
    assert len(fetched) == 1 and fetched[0].read_text() == page
