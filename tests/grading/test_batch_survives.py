"""No submission stops a batch: each crasher the isolation issue found is that submission's
named error (or is graded), everyone else is graded and recorded, and feedback is written for
the whole class. Checked as a batch (two workers, sandbox on where bwrap works)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.exports.feedback import feedback_all
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.gradebook.record import ledger_rows
from autograder.sandbox.policy import Limits, bwrap_works
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-survives")]

SEND = ("ip = get_ipython()\nk = ip.kernel\n"
        "def send(kind, content):\n"
        "    k.session.send(k.iopub_socket, kind, content, parent=k.get_parent('shell'))\n")
LIST_TEXT = SEND + "send('stream', {'name': 'stdout', 'text': ['a', 'list', 'of', 'text']})\n"
# every cell, test cells included, "returns" 1000: nbgrader would read it as partial credit
PARTIAL_CREDIT = SEND + ("def boom(result):\n"
                         "    send('execute_result', {'data': {'text/plain': '1000'}, "
                         "'metadata': {}, 'execution_count': 1})\n"
                         "ip.events.register('post_run_cell', boom)\n")


EVIL = ('<script>alert("x1")</script><img src=x onerror="alert(\'x2\')">'
        '<a href="javascript:alert(\'x3\')">click</a>')
HTML_OUTPUTS = ("from IPython.display import HTML, Javascript, display\n"
                f"display(HTML({EVIL!r}))\n"
                "display(Javascript('alert(\"x4\")'))\n")


def _corpus(root: Path) -> dict:
    html = fill(root, square=HTML_OUTPUTS + SQUARE)
    html.cells.insert(1, new_markdown_cell("my notes " + EVIL))
    surrogate = fill(root)
    surrogate.cells.insert(1, new_markdown_cell("lone surrogate: \ud800 here"))
    hidden_marker = fill(root, square="### BEGIN HIDDEN TESTS\n" + SQUARE)
    many = fill(root)
    many.cells.extend(new_code_cell("") for _ in range(100_000))
    v3 = nbformat.convert(nbformat.from_dict(fill(root)), 3)
    deep = ('{"cells": [], "metadata": {"x": ' + "[" * 100_000 + "]" * 100_000
            + '}, "nbformat": 4, "nbformat_minor": 5}')
    return {  # student -> (hand-in, score, outcome kind, text the outcome must contain)
        "perfect": (fill(root), FULL_MARKS, "graded", ""),
        "list-text": (fill(root, square=LIST_TEXT + SQUARE), FULL_MARKS, "graded", ""),
        "surrogate": (surrogate, FULL_MARKS, "graded", ""),
        "deep-json": (deep, 0.0, "invalid JSON", "levels deep"),
        "partial-credit": (fill(root, square=PARTIAL_CREDIT + SQUARE), FULL_MARKS, "graded", ""),
        "hidden-marker": (hidden_marker, FULL_MARKS, "graded", ""),
        "many-cells": (many, 0.0, "too large", "cells"),
        "nbformat-3": (nbformat.writes(v3, version=3), FULL_MARKS, "graded", ""),
        "html-injection": (html, FULL_MARKS, "graded", ""),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    work = root / "work"
    subs = root / "submissions"
    table = _corpus(root)
    for student, (content, *_) in table.items():
        if isinstance(content, dict):
            content = json.dumps(content)  # ensure_ascii: the surrogate survives as \\ud800
        write_submission(subs, student, content)
    rows = grade_batch(subs, BatchOptions(root=root, work=work, workers=2, progress=False,
                                          require_sandbox=bwrap_works(),
                                          limits=Limits(cell_timeout=20, wall_clock=60),
                                          assignments=[ASSIGNMENT]))
    written = feedback_all(root, work)
    return {"root": root, "work": work, "table": table, "rows": {r.key[0]: r for r in rows},
            "feedback": written}


STUDENTS = ["perfect", "list-text", "surrogate", "deep-json", "partial-credit",
            "hidden-marker", "many-cells", "nbformat-3", "html-injection"]


@pytest.mark.parametrize("student", STUDENTS)
def test_each_crasher_is_its_own_outcome(graded, student):
    _, score, kind, text = graded["table"][student]
    row = graded["rows"][student]
    assert (row.score, row.outcome.kind) == (score, kind), row
    assert text in str(row.outcome)


def test_everyone_is_recorded_once(graded):
    db = f"sqlite:///{graded['work'] / 'gradebook.db'}"
    assert sorted(r.student for r in ledger_rows(db)) == sorted(STUDENTS)


def test_feedback_is_written_for_everyone(graded):
    pages = {p.parts[-3] for p in graded["feedback"]}
    assert pages == set(STUDENTS)
    page = next(p for p in graded["feedback"] if p.parts[-3] == "hidden-marker").read_text()
    assert "check_values(square, np.square, [(-1.5,)" not in page  # no hidden test source


class _LiveMarkup(HTMLParser):
    """Collects what of a page would run in a browser: script bodies that hold the injected
    alerts, event-handler attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") and "alert" in (value or ""):
                self.live.append(f"<{tag} {name}>")
            if "javascript:" in (value or "").replace(" ", "").lower():
                self.live.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "alert(" in data:
            self.live.append(f"<script>{data[:60]}")


def _live_html(page: str) -> list[str]:
    parser = _LiveMarkup()
    parser.feed(page)
    return parser.live


def _rendered(nb: dict) -> list[str]:
    """The HTML an instructor's notebook view renders: HTML/JS outputs and markdown cells."""
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] in ("markdown", "raw"):
            out.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/javascript" in data or "text/javascript" in data:
                out.append("<script>alert(javascript output)</script>")
            out.append("".join(data.get("text/html", "")))
            out.append("".join(data.get("text/markdown", "")))
    return out


def test_student_html_is_inert_in_the_autograded_notebook_and_the_feedback(graded):
    work = graded["work"]
    nb = json.loads((work / "autograded" / "html-injection" / ASSIGNMENT /
                     f"{NOTEBOOK}.ipynb").read_text())
    rendered = _rendered(nb)
    assert [_live_html(h) for h in rendered if _live_html(h)] == []
    assert any("click" in h for h in rendered)  # the text is kept, the markup made inert
    page = next(p for p in graded["feedback"] if p.parts[-3] == "html-injection").read_text()
    assert _live_html(page) == []
    assert "my notes" in page
    assert graded["rows"]["html-injection"].score == FULL_MARKS
