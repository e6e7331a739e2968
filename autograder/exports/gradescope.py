"""Gradescope's `results.json`: its shape for one submission, for a CI run, and for a failure.

Per-test detail comes from the autograded notebooks (hidden tests' output is held back until
grades are published); scores and named errors from the ledger. `extra_data.autograder` carries
what `autograder merge` needs to fold a CI result into an instructor's gradebook.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader import utils

from autograder.exports.feedback import HIDDEN_MARK, STAND_IN_KEY, passed_output
from autograder.gradebook.record import SubmissionRecord
from autograder.grading.steps.verify_grade_cells import VERDICT_KEY
from autograder.grading.verify import PASSED

MAX_OUTPUT = 2000
EXTRA_VERSION = 1


def _test_results(notebook_path: Path, notebook: str) -> list[dict]:
    """One entry per grade cell of an autograded notebook, in notebook order."""
    if not notebook_path.exists():
        return []
    nb = nbformat.read(notebook_path, as_version=4)
    stand_in = STAND_IN_KEY in nb.metadata  # the release, put in for a named error: nothing ran
    tests = []
    for cell in nb.cells:
        if not utils.is_grade(cell):
            continue
        score, max_score = utils.determine_grade(cell)
        if stand_in:
            score = 0.0
        hidden = HIDDEN_MARK in cell.source
        # fixed text of the verifier's verdict only: the kernel saw the hidden tests, so
        # nothing it produced (messages, values, type names) reaches a student
        verdict = cell.metadata.get(VERDICT_KEY) or {}
        if stand_in:
            lines = [f"not graded: {nb.metadata[STAND_IN_KEY]}"]
        elif verdict.get("outcome") == PASSED:
            lines = [passed_output(cell) or "passed"]
        else:
            lines = [verdict.get("public", "not graded")]
        tests.append({
            "name": f"{notebook}: {cell.metadata.nbgrader['grade_id']}",
            "score": float(score or 0.0),
            "max_score": float(max_score),
            "output": ("written answer: graded by hand" if score is None
                       else "\n".join(lines)[:MAX_OUTPUT]),
            "visibility": "after_published" if hidden else "visible",
            "manual": score is None,
        })
        if score is not None:  # Gradescope's optional per-test status (written answers: none)
            tests[-1]["status"] = "passed" if score >= max_score else "failed"
    return tests


PENDING = "written answer: pending (graded by hand)"


def _with_gradebook(test: dict, cell) -> dict:
    """A test entry with the gradebook's say: a manual score overrides, a comment is shown,
    a written answer nobody graded yet is pending."""
    if cell is None:
        return test
    test = dict(test, score=cell.score)
    if cell.pending:
        test["output"] = PENDING
        test.pop("status", None)
    elif cell.manual_score is not None:
        test["output"] = (f"graded by hand: {cell.score:g} / {cell.max_score:g}"
                          + (f"\n{cell.comment}" if cell.comment else ""))[:MAX_OUTPUT]
        test["status"] = "passed" if cell.score >= cell.max_score else "failed"
    elif cell.comment:
        test["output"] = (test["output"] + f"\ncomment: {cell.comment}")[:MAX_OUTPUT]
    return test


def results_json(row: SubmissionRecord, work: Path, entry=None) -> dict:
    """Gradescope's results.json for one submission; `entry` (its `GradebookEntry`) adds the
    manual grades, pending written answers and the late penalty."""
    cells = {(c.notebook, c.grade_id): c for c in entry.cells} if entry is not None else {}
    tests = []
    for notebook in sorted(row.notebooks):
        path = work / "autograded" / row.student / row.assignment / f"{notebook}.ipynb"
        for test in _test_results(path, notebook):
            grade_id = test["name"].split(": ", 1)[1]
            test = _with_gradebook(test, cells.get((notebook, grade_id)))
            tests.append({k: v for k, v in test.items() if k != "manual"})
    errors = [f"{name}: {outcome}" for name, outcome in row.errors]
    output = "; ".join(errors) if errors else "graded"
    if entry is not None:
        notes = []
        if entry.pending:
            notes.append(f"{len(entry.pending)} written answer(s) pending, "
                         f"{sum(c.max_score for c in entry.pending):g} points")
        if entry.late_text():
            notes.append(entry.late_text())
        output = "; ".join([output, *notes])
    result = {
        "score": entry.final if entry is not None else row.score,
        "max_score": row.max_score,
        "execution_time": round(sum(nb.seconds for nb in row.notebooks.values()), 2),
        "output": output,
        "tests": tests,
    }
    return result


def gradebook_detail(db_url: str, row: SubmissionRecord) -> dict:
    """Per-notebook scores by grade id and unanswered cells, as the gradebook holds them."""
    from nbgrader.api import Gradebook

    notebooks = {}
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(row.assignment, row.student)
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "scores": {g.name: g.auto_score for g in nb.grades},
                "max_scores": {g.name: float(g.max_score) for g in nb.grades},
                "no_response": sorted(c.name for c in nb.comments
                                      if c.auto_comment == "No response."),
            }
    return notebooks


def combine(rows: list[SubmissionRecord], work: Path, db_url: str, digests: dict) -> dict:
    """One Gradescope results.json for every assignment graded in this run."""
    parts = [results_json(row, work) for row in rows]
    outputs = [p["output"] for p in parts if p["output"] != "graded"]
    result = {
        "score": sum(p["score"] for p in parts),
        "max_score": sum(p["max_score"] for p in parts),
        "execution_time": round(sum(p["execution_time"] for p in parts), 2),
        "output": ("; ".join(outputs) if outputs else "graded") if parts else
                  "no notebook of the course was found in the submission",
        "tests": [t for p in parts for t in p["tests"]],
        "extra_data": {"autograder": {
            "version": EXTRA_VERSION,
            "student": rows[0].student if rows else None,
            "submissions": [{
                "assignment": row.assignment,
                "digest": digests[row.key],
                "outcome": row.outcome.kind.value,
                "detail": row.detail(),
                "grades": gradebook_detail(db_url, row),
            } for row in rows],
        }},
    }
    return result


def failure_results(message: str) -> dict:
    """results.json when grading could not run: a readable zero with the reason."""
    return {"score": 0.0, "max_score": 0.0, "execution_time": 0.0,
            "output": f"grading could not run: {message}", "tests": [],
            "extra_data": {"autograder": {"version": EXTRA_VERSION, "student": None,
                                          "submissions": []}}}
