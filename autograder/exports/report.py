"""`autograder report`: one HTML page of class statistics with plots, for the instructor.

Score distribution per assignment, mean score per exercise (grade cell), failures per test,
the hints that fired most for each test (which bug the class makes in which op), answers
computed by a library or the kit, named errors by kind, late submissions, and grading time
(seconds per notebook, split by step, and what grading this class takes on this machine). Read
from the gradebook (manual grades counted), the ledger (named errors, grading times) and the
autograded notebooks (each failed test's hint, as the verifier recorded it); plots are PNGs
embedded in the page (matplotlib, Agg).
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from autograder.course import load_config
from autograder.exports.timing import STEPS, estimate_line, notebook_times, workers_of
from autograder.gradebook.record import ledger_rows
from autograder.gradebook.view import gradebook_entries
from autograder.grading.options import Grader


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return ('<img alt="plot" src="data:image/png;base64,'
            + base64.b64encode(buffer.getvalue()).decode() + '">')


def _barh(labels: list[str], values: list[float], title: str, xlabel: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.3 * len(labels) + 1.2))
    ax.barh(labels or ["(none)"], values or [0])
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return _png(fig)


def test_verdicts(work: Path, rows) -> list[tuple[str, dict]]:
    """('assignment/notebook: test', its verdict) for every test cell of the autograded
    notebooks of ``rows``, each notebook read once (an unreadable one is left out)."""
    import nbformat

    from autograder.grading.steps.verify_grade_cells import VERDICT_KEY

    found = []
    for row in rows:
        folder = Path(work) / "autograded" / row.student / row.assignment
        for notebook in row.notebooks:
            try:
                nb = nbformat.read(folder / f"{notebook}.ipynb", as_version=4)
            except Exception:  # noqa: BLE001 (missing or unreadable: left out)
                continue
            for cell in nb.cells:
                verdict = cell.metadata.get(VERDICT_KEY)
                if isinstance(verdict, dict) and verdict.get("outcome"):
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                    found.append((f"{row.assignment}/{notebook}: {grade_id}", verdict))
    return found


def fired_hints(verdicts: list[tuple[str, dict]]) -> dict[str, Counter]:
    """test -> Counter of the hints its wrong answers got (not stubs; a failure the checks
    recognised no bug in counts as "no specific hint")."""
    from autograder.grading.verify import NOT_DONE, PASSED

    hints: dict[str, Counter] = defaultdict(Counter)
    for key, verdict in verdicts:
        if verdict.get("outcome") not in (PASSED, NOT_DONE):
            hints[key][str(verdict.get("hint") or "no specific hint")] += 1
    return hints


def test_outcomes(verdicts: list[tuple[str, dict]]) -> dict[str, Counter]:
    """test -> Counter of its verdicts' outcomes (passed, failed the visible test, failed a
    hidden test, not implemented)."""
    outcomes: dict[str, Counter] = defaultdict(Counter)
    for key, verdict in verdicts:
        outcomes[key][str(verdict["outcome"])] += 1
    return outcomes


def _hints_section(verdicts: list[tuple[str, dict]]) -> str:
    hints = fired_hints(verdicts)
    if not hints:
        return "<h2>Hints that fired</h2><p>No test failed with a wrong answer.</p>"
    body = []
    for key in sorted(hints, key=lambda k: -sum(hints[k].values())):
        for i, (hint, count) in enumerate(hints[key].most_common(3)):
            test = html.escape(key) if i == 0 else ""
            body.append(f"<tr><td>{test}</td><td>{count}</td><td>{html.escape(hint)}</td></tr>")
    return ("<h2>Hints that fired, per test</h2><p>Wrong answers (not stubs) by the hint the "
            "checks gave: the bug the class makes most in each op, three at most per test."
            "</p><table border='1' cellpadding='4'><tr><th>test</th><th>submissions</th>"
            "<th>hint</th></tr>" + "".join(body) + "</table>")


def _generic_section(work: Path, rows) -> str:
    from autograder.exports.generic_answers import generic_answers

    found = generic_answers(work, rows)
    head = ("<h2>Answers computed by a library or the kit</h2><p>They pass when their numbers "
            "are right; whether they earn the points is your call. Found in the answer's "
            "source, or reported while a check ran it.</p>")
    if not found:
        return head + "<p>None.</p>"
    body = "".join(
        f"<tr><td>{html.escape(g.student)}</td><td>{html.escape(g.assignment)}/"
        f"{html.escape(g.notebook)}</td><td>{html.escape(g.cell)}</td>"
        f"<td>{html.escape(', '.join(g.signals))}</td><td>{html.escape(g.how)}</td></tr>"
        for g in sorted(found, key=lambda g: (g.assignment, g.student, g.cell)))
    return (head + "<table border='1' cellpadding='4'><tr><th>student</th><th>notebook</th>"
            "<th>cell</th><th>uses</th><th>seen</th></tr>" + body + "</table>")


def _timing_section(rows, workers: int) -> str:
    times = notebook_times(rows)
    if not times:
        return "<h2>Grading time</h2><p>No notebook ran in a kernel.</p>"
    body = "".join(
        f"<tr><td>{html.escape(t.name)}</td><td>{len(t.seconds)}</td><td>{t.median:.1f}</td>"
        f"<td>{t.longest:.1f}</td>"
        + "".join(f"<td>{t.steps[s]:.1f}</td>" if s in t.steps else "<td></td>" for s in STEPS)
        + "</tr>" for t in times)
    return (f"<h2>Grading time</h2><p>{html.escape(estimate_line(rows, workers_of(workers)))}"
            ".</p><table border='1' cellpadding='4'><tr><th>notebook</th><th>submissions</th>"
            "<th>median s</th><th>longest s</th>"
            + "".join(f"<th>{html.escape(s)} (median s)</th>" for s in STEPS)
            + "</tr>" + body + "</table>")


def write_report(root: Path, work: Path, target: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = load_config(root, work)
    db_url = config.CourseDirectory.db_url
    entries = gradebook_entries(db_url)
    rows = ledger_rows(db_url)
    sections = [f"<h1>Class report</h1><p>{len({s for s, _ in entries})} students, "
                f"{len(entries)} submissions.</p>"]

    by_assignment = defaultdict(list)
    for (_, assignment), entry in sorted(entries.items()):
        by_assignment[assignment].append(entry)
    sections.append("<h2>Score distribution per assignment</h2>")
    for assignment, group in by_assignment.items():
        fig, ax = plt.subplots(figsize=(6, 2.5))
        ax.hist([e.final for e in group], bins=10, range=(0, max(group[0].max_score, 1)))
        ax.set_title(f"{assignment} (max {group[0].max_score:g})")
        ax.set_xlabel("score")
        ax.set_ylabel("students")
        sections.append(_png(fig))

    per_cell = defaultdict(list)
    for entry in entries.values():
        for cell in entry.cells:
            key = f"{entry.assignment}/{cell.notebook}: {cell.grade_id}"
            if cell.pending:
                continue
            per_cell[key].append(cell.score / cell.max_score if cell.max_score else 0.0)
    from autograder.grading.verify import FAILED_HIDDEN, FAILED_VISIBLE, NOT_DONE

    verdicts = test_verdicts(work, rows)
    outcomes = test_outcomes(verdicts)
    failures = Counter({key: c[FAILED_VISIBLE] + c[FAILED_HIDDEN]
                        for key, c in outcomes.items() if c[FAILED_VISIBLE] + c[FAILED_HIDDEN]})
    not_done = Counter({key: c[NOT_DONE] for key, c in outcomes.items() if c[NOT_DONE]})
    labels = sorted(per_cell)
    sections.append("<h2>Mean score per exercise</h2>" + _barh(
        labels, [sum(per_cell[k]) / len(per_cell[k]) for k in labels],
        "fraction of the points, averaged over submissions", "fraction"))
    common = failures.most_common(20)
    sections.append("<h2>Where the class is stuck: wrong answers per test</h2>" + (_barh(
        [k for k, _ in common], [v for _, v in common],
        "submissions whose answer fails each test (not counting unfinished ones)",
        "submissions") if common else "<p>No test failed with a wrong answer.</p>"))
    if not_done:
        sections.append("<h2>Not implemented</h2><p>Submissions that left each exercise "
                        "unfinished (its stub, or an exercise added after they handed in):</p>"
                        "<ul>" + "".join(f"<li>{html.escape(k)}: {v}</li>"
                                         for k, v in not_done.most_common()) + "</ul>")

    sections.append(_hints_section(verdicts))
    sections.append(_generic_section(work, rows))

    errors = Counter(outcome.kind.value for row in rows for _, outcome in row.errors)
    sections.append("<h2>Named errors</h2>" + (_barh(
        list(errors), list(errors.values()), "notebooks by named error", "notebooks")
        if errors else "<p>None: every notebook was graded.</p>"))
    late = [e for e in entries.values() if e.seconds_late > 0]
    sections.append(f"<h2>Late submissions ({len(late)})</h2><ul>" + "".join(
        f"<li>{html.escape(e.student)} — {html.escape(e.assignment)}: "
        f"{html.escape(e.late_text())}</li>" for e in sorted(
            late, key=lambda e: (e.assignment, e.student))) + "</ul>")
    sections.append(_timing_section(rows, Grader(config=config).workers))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Class report"
                      "</title></head><body>" + "\n".join(sections) + "</body></html>",
                      encoding="utf-8")
    return target
