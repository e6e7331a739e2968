"""JUnit XML: one test suite per submission, one test case per graded cell."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from autograder.exports.gradescope import MAX_OUTPUT, PENDING, results_json
from autograder.gradebook.record import SubmissionRecord


def junit_xml(row: SubmissionRecord, results: dict) -> ET.Element:
    suite = ET.Element("testsuite", name=f"{row.student}/{row.assignment}",
                       tests=str(len(results["tests"])),
                       time=str(results["execution_time"]))
    failures = 0
    for test in results["tests"]:
        case = ET.SubElement(suite, "testcase", classname=f"{row.student}.{row.assignment}",
                             name=test["name"])
        if test["output"] == PENDING:
            ET.SubElement(case, "skipped", message=PENDING)
        elif test["score"] < test["max_score"]:
            failures += 1
            failure = ET.SubElement(case, "failure",
                                    message=f"{test['score']:g} of {test['max_score']:g} points")
            failure.text = test["output"]
    if not results["tests"] and not results["output"].startswith("graded"):
        case = ET.SubElement(suite, "testcase", classname=row.student, name="submission")
        ET.SubElement(case, "error", message=results["output"][:MAX_OUTPUT])
        failures += 1
    suite.set("failures", str(failures))
    return suite


def junit_document(rows: list[SubmissionRecord], work: Path) -> ET.ElementTree:
    suites = ET.Element("testsuites", name="autograder")
    for row in rows:
        suites.append(junit_xml(row, results_json(row, work)))
    return ET.ElementTree(suites)


def failure_document(message: str) -> ET.ElementTree:
    """JUnit XML when grading could not run: one errored case with the reason."""
    suites = ET.Element("testsuites", name="autograder")
    suite = ET.SubElement(suites, "testsuite", name="submission", tests="1", failures="1")
    case = ET.SubElement(suite, "testcase", classname="autograder", name="grading")
    ET.SubElement(case, "error", message=message[:MAX_OUTPUT])
    return ET.ElementTree(suites)
