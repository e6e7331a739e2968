"""Releasing safely and checking a master through the grader before students submit.

* `autograder check` grades the master's own answers and its stubs through the real grading
  path and names each cell it refuses: a test cell the grader cannot run, a test the master's
  answer fails, a test a stub passes;
* `autograder release` runs that check and leaves course/ as it was when it refuses, or when
  nbgrader cannot build the release;
* releasing after submissions exist, with an exercise added to the master, reshapes the
  gradebook (hand grades kept) instead of deleting the release.
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook

from tests.course.test_fix_after_release import _add_quad_exercise
from tests.course.test_manual_and_late import run
from tests.grading.fixture_course import (
    ASSIGNMENT,
    NOTEBOOK,
    _meta,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("course-release-check")]


def _master(root):
    path = root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    return path, nbformat.read(path, as_version=4)


def _released(root) -> str:
    return (root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()


def test_check_passes_a_good_master(tmp_path):
    root = make_course(tmp_path / "course")
    out = run("check", ASSIGNMENT, "--root", str(root))
    assert "earn every point, the stubs none" in out


def test_check_and_release_refuse_a_master_naming_each_bad_cell(tmp_path):
    root = make_course(tmp_path / "course")
    before = _released(root)
    path, master = _master(root)
    master.cells += [
        # calls the student's code itself: the grader cannot run it
        new_code_cell("assert square(3.0) == 9.0",
                      metadata=_meta("test_direct", grade=True, locked=True, points=1)),
        # expects the wrong value: the master's own answer fails it
        new_code_cell("import numpy as np\nfrom coursekit.checks import check_values\n"
                      "check_values(cube, lambda x: x ** 2, [(2.0,)], 'cube')",
                      metadata=_meta("test_wrong", grade=True, locked=True, points=1)),
        # checks nothing of the student's: a stub passes it
        new_code_cell("print('✓ looks fine')",
                      metadata=_meta("test_nothing", grade=True, locked=True, points=1)),
    ]
    nbformat.write(master, path)
    out = run("check", ASSIGNMENT, "--root", str(root), expect_status=1)
    assert "cell test_direct: the grader cannot run this test cell" in out, out
    assert "calls `square` directly" in out
    assert "cell test_wrong: the master's own answer fails this test" in out
    assert "cell test_nothing: this test passes with the exercise not implemented" in out
    assert "test_square" not in out
    out = run("release", ASSIGNMENT, "--root", str(root), expect_status=1)
    assert f"course/{ASSIGNMENT} is unchanged" in out and "test_direct" in out
    assert _released(root) == before


def test_a_release_nbgrader_cannot_build_leaves_the_old_one(tmp_path):
    root = make_course(tmp_path / "course")
    before = _released(root)
    path, master = _master(root)
    master.cells[1].source = master.cells[1].source.replace("### END SOLUTION", "")
    nbformat.write(master, path)
    out = run("release", ASSIGNMENT, "--root", str(root), "--no-check", expect_status=1)
    assert f"course/{ASSIGNMENT} is unchanged" in out
    assert _released(root) == before


def test_releasing_an_added_exercise_after_submissions_keeps_release_and_hand_grades(tmp_path):
    root = make_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_submission(subs, "ada", fill(root))
    run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    db_url = f"sqlite:///{root / 'work' / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        grade = gb.find_grade("test_square_hidden", NOTEBOOK, ASSIGNMENT, "ada")
        grade.manual_score = 1.5
        gb.db.commit()
    _add_quad_exercise(root)
    out = run("release", ASSIGNMENT, "--root", str(root))
    assert f"released course/{ASSIGNMENT}" in out and "the gradebook follows the master" in out
    released = nbformat.read(root / "course" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in released.cells]
    assert "quad" in ids and "test_quad" in ids
    with Gradebook(db_url) as gb:
        assert gb.find_grade("test_square_hidden", NOTEBOOK, ASSIGNMENT, "ada"
                             ).manual_score == 1.5


def test_new_scaffolds_an_assignment_that_passes_check_and_grades(tmp_path):
    root = make_course(tmp_path / "course")
    out = run("new", "06-softplus", "--root", str(root))
    assert "wrote solutions/06-softplus/softplus.ipynb" in out
    assert "[assignments.06-softplus]" in (root / "course.toml").read_text()
    variants = root / "tests" / "notebooks" / "variants" / "v06_softplus.py"
    namespace: dict = {}
    exec(variants.read_text(), namespace)
    spec = namespace["EXERCISES"]["softplus_derivative"]
    assert len(spec["correct"]) >= 2 and len(spec["bugs"]) >= 4
    assert "earn every point, the stubs none" in run("check", "06-softplus", "--root",
                                                     str(root))
    run("new", "06-softplus", "--root", str(root), expect_status=2)  # never overwritten
    out = run("release", "06-softplus", "--root", str(root), "--no-check")
    assert "released course/06-softplus" in out


def test_a_master_change_does_not_ask_for_graded_written_answers_again(tmp_path):
    from tests.course.test_manual_and_late import written_course

    root = written_course(tmp_path / "course")
    subs = tmp_path / "subs"
    for student in ("ada", "bob"):
        nb = fill(root)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "why_smooth":
                cell.source = "It is a polynomial, so it has derivatives of every order."
        write_submission(subs, student, nb)
    run("grade", str(subs), "--root", str(root), "--workers", "2", "--quiet")
    db_url = f"sqlite:///{root / 'work' / 'gradebook.db'}"
    with Gradebook(db_url) as gb:  # a TA grades ada's written answer in formgrader
        grade = gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT, "ada")
        grade.manual_score, grade.needs_manual_grade = 2.0, False
        gb.db.commit()
    path, master = _master(root)
    master.cells[0].source += "\n\nCorrected after release."  # any change: all regraded
    nbformat.write(master, path)
    out = run("grade", str(subs), "--root", str(root), "--workers", "2", "--quiet")
    assert "stale" in out
    with Gradebook(db_url) as gb:
        ada = gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT, "ada")
        bob = gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT, "bob")
        assert (ada.manual_score, ada.needs_manual_grade) == (2.0, False)
        assert bob.needs_manual_grade  # not graded by hand yet: still waiting for a TA
