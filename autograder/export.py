"""Exports: grades.csv, a Gradescope results.json per submission, and JUnit XML.

Scores come from nbgrader's gradebook (so manual grades entered in formgrader count); per-test
detail comes from the autograded notebooks; named errors and timings from the ledger.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import nbformat
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from autograder.course import existing_assignments, load_config
from autograder.feedback import HIDDEN_MARK, passed_output
from autograder.record import ledger_rows
from autograder.steps import VERDICT_KEY
from autograder.verify import PASSED

MAX_OUTPUT = 2000


def _test_results(notebook_path: Path, notebook: str) -> list[dict]:
    """One entry per grade cell of an autograded notebook, in notebook order."""
    if not notebook_path.exists():
        return []
    nb = nbformat.read(notebook_path, as_version=4)
    tests = []
    for cell in nb.cells:
        if not utils.is_grade(cell):
            continue
        score, max_score = utils.determine_grade(cell)
        hidden = HIDDEN_MARK in cell.source
        # fixed text of the verifier's verdict only: the kernel saw the hidden tests, so
        # nothing it produced (messages, values, type names) reaches a student
        verdict = cell.metadata.get(VERDICT_KEY) or {}
        if verdict.get("outcome") == PASSED:
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


def results_json(row: dict, work: Path) -> dict:
    """Gradescope's results.json for one submission."""
    tests = []
    for notebook in sorted(row["detail"]["notebooks"]):
        path = work / "autograded" / row["student"] / row["assignment"] / f"{notebook}.ipynb"
        tests += [{k: v for k, v in t.items() if k != "manual"}
                  for t in _test_results(path, notebook)]
    errors = [f"{name}: {nb['error']}" for name, nb in sorted(row["detail"]["notebooks"].items())
              if nb.get("error")]
    result = {
        "score": row["detail"]["score"],
        "max_score": row["detail"]["max_score"],
        "execution_time": round(sum(nb["seconds"] for nb in row["detail"]["notebooks"].values()),
                                2),
        "output": "; ".join(errors) if errors else "graded",
        "tests": tests,
    }
    return result


def junit_xml(row: dict, results: dict) -> ET.Element:
    suite = ET.Element("testsuite", name=f"{row['student']}/{row['assignment']}",
                       tests=str(len(results["tests"])),
                       time=str(results["execution_time"]))
    failures = 0
    for test in results["tests"]:
        case = ET.SubElement(suite, "testcase", classname=f"{row['student']}.{row['assignment']}",
                             name=test["name"])
        if test["score"] < test["max_score"]:
            failures += 1
            failure = ET.SubElement(case, "failure",
                                    message=f"{test['score']:g} of {test['max_score']:g} points")
            failure.text = test["output"]
    if not results["tests"] and results["output"] != "graded":
        case = ET.SubElement(suite, "testcase", classname=row["student"], name="submission")
        ET.SubElement(case, "error", message=results["output"][:MAX_OUTPUT])
        failures += 1
    suite.set("failures", str(failures))
    return suite


def export_all(root: Path, work: Path, target: Path) -> list[Path]:
    """Write grades.csv, gradescope/<student>/<assignment>/results.json and junit.xml."""
    config = load_config(root, work)
    db_url = config.CourseDirectory.db_url
    rows = ledger_rows(db_url)
    target.mkdir(parents=True, exist_ok=True)
    written = []

    assignments = [a for a in existing_assignments(root) if any(r["assignment"] == a
                                                                for r in rows)]
    students = sorted({r["student"] for r in rows})
    grades_csv = target / "grades.csv"
    with Gradebook(db_url) as gb, open(grades_csv, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", *assignments, "total"])
        for student in students:
            scores = []
            for assignment in assignments:
                try:
                    scores.append(float(gb.find_submission(assignment, student).score))
                except MissingEntry:
                    scores.append(0.0)
            writer.writerow([student, *[f"{s:g}" for s in scores], f"{sum(scores):g}"])
    written.append(grades_csv)

    suites = ET.Element("testsuites", name="autograder")
    for row in rows:
        results = results_json(row, work)
        path = target / "gradescope" / row["student"] / row["assignment"] / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
        written.append(path)
        suites.append(junit_xml(row, results))
    junit = target / "junit.xml"
    ET.ElementTree(suites).write(junit, encoding="utf-8", xml_declaration=True)
    written.insert(1, junit)
    return written
