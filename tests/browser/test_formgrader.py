"""Formgrader on a graded course, in a real Chromium: a written answer graded by hand reaches
grades.csv.

A tiny course with a written answer (tests/course/test_manual_and_late.py) is graded with
`autograder grade`; JupyterLab is started from the course root (as `make formgrader` does), so
nbgrader's formgrader reads the root nbgrader_config.py, the kit's configuration and the kit's
gradebook. The test opens the submission in formgrader, types a score for the written answer,
and `autograder export` counts it.
"""

from __future__ import annotations

import csv
import shutil
import threading
import time

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.browser.lab_server import ROOT, start_lab
from tests.course.test_manual_and_late import run, written_course
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, fill, write_submission
from tests.waits import waiting_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-formgrader")]


def test_a_written_answer_graded_in_formgrader_reaches_grades_csv(tmp_path):
    from nbgrader.api import Gradebook
    from playwright.sync_api import sync_playwright

    if chromium_path() is None:
        pytest.skip("browser tests need Chromium (/usr/bin/chromium)")
    root = written_course(tmp_path / "course")
    (root / "course.toml").unlink()  # no due date: this test is about the manual score
    shutil.copyfile(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    subs = tmp_path / "subs"
    nb = fill(root)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "why_smooth":
            cell.source = "Because it is a polynomial."
    write_submission(subs, "ada", nb)
    run("grade", str(subs), "--root", str(root), "--workers", "1", "--quiet")
    db_url = f"sqlite:///{root / 'work' / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        submission_id = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "ada").id

    server = start_lab(tmp_path / "state", root)
    found: dict = {}

    def grade_by_hand() -> None:
        # in a thread of its own: grading in this process may have left an event loop set
        # on the main thread, where Playwright's sync API refuses to run
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(chromium_path()),
                                                     headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.set_default_timeout(60_000)
                page.goto(f"{server.url}tree?token={server.token}")  # logs in (the cookie)
                page.goto(f"{server.url}formgrader/submissions/{submission_id}/")
                score = page.locator("input.score#why_smooth")
                score.wait_for()
                found["answer shown"] = "Because it is a polynomial." in page.content()
                score.fill("1.5")
                score.press("Tab")  # formgrader saves on change
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    with Gradebook(db_url) as gb:
                        found["saved"] = gb.find_grade("why_smooth", NOTEBOOK, ASSIGNMENT,
                                                       "ada").manual_score
                    if found["saved"] is not None:
                        break
                    time.sleep(0.5)
                browser.close()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
            found["error"] = exc

    try:
        worker = threading.Thread(target=grade_by_hand)
        worker.start()
        with waiting_for("formgrader in a browser: a score entered by hand, saved"):
            worker.join(300)
        assert not worker.is_alive(), (
            "formgrader's browser thread did not finish within 300 s:\n" + server.log_tail())
    finally:
        server.stop()
    if "error" in found:
        raise found["error"]
    assert found.get("answer shown"), server.log_tail()
    saved = found.get("saved")
    assert saved == 1.5, server.log_tail()

    run("export", "--root", str(root))
    with open(root / "work" / "export" / "grades.csv") as fh:
        ada = next(r for r in csv.DictReader(fh) if r["student"] == "ada")
    assert ada[ASSIGNMENT] == "5.5" and ada["pending"] == ""  # 4 autograded + 1.5 by hand
