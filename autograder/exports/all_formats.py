"""Every export of a graded class: grades.csv, canvas.csv (Canvas's gradebook import), a
results.json per submission, junit.xml."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from autograder.course import existing_assignments, load_config
from autograder.exports.canvas import write_canvas_csv
from autograder.exports.csv import write_grades_csv
from autograder.exports.gradescope import results_json
from autograder.exports.junit import junit_xml
from autograder.gradebook.record import ledger_rows
from autograder.gradebook.view import gradebook_entries


def export_all(root: Path, work: Path, target: Path) -> list[Path]:
    """Write grades.csv, gradescope/<student>/<assignment>/results.json and junit.xml."""
    config = load_config(root, work)
    db_url = config.CourseDirectory.db_url
    rows = ledger_rows(db_url)
    target.mkdir(parents=True, exist_ok=True)
    assignments = [a for a in existing_assignments(root) if any(r.assignment == a for r in rows)]
    students = sorted({r.student for r in rows})
    written = [write_grades_csv(target / "grades.csv", db_url, students, assignments)]
    canvas = write_canvas_csv(target / "canvas.csv", db_url, students, assignments)

    entries = gradebook_entries(db_url)
    suites = ET.Element("testsuites", name="autograder")
    for row in rows:
        results = results_json(row, work, entries.get(row.key))
        path = target / "gradescope" / row.student / row.assignment / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1))
        written.append(path)
        suites.append(junit_xml(row, results))
    junit = target / "junit.xml"
    ET.ElementTree(suites).write(junit, encoding="utf-8", xml_declaration=True)
    written.insert(1, junit)
    written.append(canvas)
    return written
