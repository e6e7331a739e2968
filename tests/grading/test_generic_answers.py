"""Generic answers pass when their numbers are right and are listed for the instructor.

A 01 submission answers `sigmoid_derivative` with HIPS autograd and `tanh_derivative` with the
kit's own finite differences, imported so that no source line names coursekit. Graded by the
real pipeline, it earns every point; `autograder report` lists both, the first from its source
and at run time, the second at run time only. The masters' own answers are never listed.
"""

from __future__ import annotations

import pytest

from autograder.course import REPO_ROOT, load_config
from autograder.examples.make_examples import answered, auto_points
from autograder.exports.generic_answers import generic_answers, static_signals
from autograder.exports.report import write_report
from autograder.gradebook.batch import BatchOptions, grade_batch
from autograder.gradebook.record import ledger_rows
from autograder.sandbox.policy import Limits, bwrap_works

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-generic")]

BY_AUTOGRAD = """\
import autograd.numpy as anp
from autograd import elementwise_grad


def sigmoid_derivative(x):
    return elementwise_grad(lambda t: 1 / (1 + anp.exp(-t)))(np.asarray(x, dtype=float))
"""
BY_THE_KIT = """\
_kit = __import__("course" + "kit.checks", fromlist=["checks"])


def tanh_derivative(x):
    return _kit.finite_difference_partial(np.tanh, [x], 0, None)
"""


def test_static_signals_name_each_library_and_nothing_in_plain_numpy():
    assert static_signals("from autograd import grad") == ["HIPS autograd"]
    assert static_signals("g = np.gradient(y, x)") == ["np.gradient"]
    assert static_signals("import torch\nimport jax.numpy as jnp") == ["JAX", "PyTorch"]
    assert static_signals("return 1 - np.tanh(x) ** 2  # the gradient, by hand") == []


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat

    base = tmp_path_factory.mktemp("generic")
    nb = answered(REPO_ROOT, "01-derivatives", "derivatives")
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "sigmoid_derivative":
            cell.source = BY_AUTOGRAD
        elif grade_id == "tanh_derivative":
            cell.source = BY_THE_KIT
    for student, notebook in (("generic", nb),
                              ("own-formulas", answered(REPO_ROOT, "01-derivatives",
                                                        "derivatives"))):
        path = base / "submitted" / student / "01-derivatives" / "derivatives.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    work = base / "work"
    rows = grade_batch(base / "submitted", BatchOptions(
        root=REPO_ROOT, work=work, workers=2, limits=Limits(cell_timeout=30, wall_clock=150),
        require_sandbox=bwrap_works(), progress=False))
    return {r.student: r for r in rows}, work, base


def test_generic_answers_earn_their_points(graded):
    rows, _, _ = graded
    full = auto_points(answered(REPO_ROOT, "01-derivatives", "derivatives"))
    assert rows["generic"].score == rows["own-formulas"].score == full


def test_the_report_lists_each_generic_answer_and_no_other(graded):
    _, work, base = graded
    rows = ledger_rows(load_config(REPO_ROOT, work).CourseDirectory.db_url)
    found = {(g.student, g.cell, g.how): set(g.signals) for g in generic_answers(work, rows)}
    assert found == {
        ("generic", "sigmoid_derivative", "in the source"): {"HIPS autograd"},
        ("generic", "test_sigmoid_derivative", "while a check ran it"): {"HIPS autograd"},
        ("generic", "test_tanh_derivative", "while a check ran it"):
            {"the kit's finite differences"},
    }
    page = write_report(REPO_ROOT, work, base / "report.html").read_text()
    assert "Answers computed by a library or the kit" in page
    assert "the kit&#x27;s finite differences" in page and "own-formulas" not in page.split(
        "Answers computed by a library")[1].split("<h2>")[0]
