"""GitHub Classroom's autograding result: the JSON `autograding-grading-reporter` reads."""

from __future__ import annotations

CLASSROOM_VERSION = 1
HIDDEN_MESSAGE = "hidden test: its output is shown after grades are published"


def classroom_result(results: dict) -> dict:
    """GitHub Classroom's autograding result: version, status, max_score, tests[]."""
    tests = []
    for test in results["tests"]:
        visible = test.get("visibility", "visible") == "visible"
        manual = "status" not in test
        tests.append({
            "name": test["name"],
            "status": "pass" if manual or test["score"] >= test["max_score"] else "fail",
            "score": test["score"],
            "max_score": test["max_score"],
            "message": test["output"] if visible or manual else HIDDEN_MESSAGE,
            "test_code": "",
            "filename": test["name"].split(":", 1)[0] + ".ipynb",
            "line_no": 0,
            "duration": 0,
        })
    submissions = results["extra_data"]["autograder"]["submissions"]
    if not submissions or any(s["outcome"] != "graded" for s in submissions):
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    if status == "error":  # the reporter prints a test's message when it errored
        tests.append({"name": "submission", "status": "error", "score": 0, "max_score": 0,
                      "message": results["output"], "test_code": "", "filename": "",
                      "line_no": 0, "duration": 0})
    return {"version": CLASSROOM_VERSION, "status": status, "max_score": results["max_score"],
            "tests": tests}
