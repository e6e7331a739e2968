"""`autograder new ID`: a new assignment to start from, already passing `autograder check`.

It writes, under the course root:

* ``solutions/ID/<topic>.ipynb``, a master with a locked setup cell, one checked exercise (the
  answer between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, a test cell with a visible
  check and a hidden part of the same kind) and one written answer graded by hand;
* an ``[assignments.ID]`` entry in ``course.toml`` (due in two weeks; edit it);
* ``tests/notebooks/variants/v<ID>.py``, the variants `make test` grades: two correct answers
  that must pass and four typical bugs that must fail, for each code exercise.

Nothing that exists is overwritten.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ID_PATTERN = re.compile(r"^[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*$")


class ScaffoldError(ValueError):
    """The assignment id is not usable or the assignment exists already."""


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def master(title: str) -> nbformat.NotebookNode:
    """The scaffold's master notebook: one checked exercise and one written answer."""
    cells = [
        new_markdown_cell(f"# {title}\n\nWhat this notebook teaches, in two sentences.",
                          metadata=_meta("intro", locked=True)),
        new_code_cell("import numpy as np\n\nfrom coursekit.checks import check_derivative",
                      metadata=_meta("setup", locked=True)),
        new_markdown_cell(
            "## Exercise 1 (2 points): the derivative of softplus\n\n"
            "$\\mathrm{softplus}(x) = \\log(1 + e^x)$. Implement `softplus_derivative(x)`, "
            "which returns $\\frac{d}{dx}\\mathrm{softplus}(x)$ for a float or, entry by entry, "
            "a numpy array. Check it with the test cell below; hidden tests try other points.",
            metadata=_meta("softplus_text", locked=True)),
        new_code_cell("def softplus_derivative(x):\n    ### BEGIN SOLUTION\n"
                      "    return 1 / (1 + np.exp(-x))\n    ### END SOLUTION",
                      metadata=_meta("softplus_derivative", solution=True)),
        new_code_cell(
            "def softplus(x):\n    return np.log1p(np.exp(x))\n\n\n"
            "check_derivative(softplus_derivative, softplus, \"real\", "
            "\"`softplus_derivative`\", seeds=(0,))\n"
            "print(\"✓ softplus_derivative matches central differences of softplus\")\n"
            "### BEGIN HIDDEN TESTS\n"
            "check_derivative(softplus_derivative, softplus, \"real\", "
            "\"`softplus_derivative`\", seeds=(1, 2, 3))\n"
            "### END HIDDEN TESTS",
            metadata=_meta("test_softplus_derivative", grade=True, locked=True, points=2)),
        new_markdown_cell(
            "## Question (2 points, graded by hand)\n\nWhy is the derivative of softplus "
            "the sigmoid? Answer in two or three sentences below.",
            metadata=_meta("why_text", locked=True)),
        new_markdown_cell(
            "### BEGIN SOLUTION\nThe derivative of $\\log(1 + e^x)$ is $e^x / (1 + e^x)$; "
            "dividing top and bottom by $e^x$ gives $1 / (1 + e^{-x})$, the sigmoid.\n"
            "### END SOLUTION",
            metadata=_meta("why_answer", solution=True, grade=True, points=2)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    return nb


VARIANTS = '''"""Variants for {assignment}: answers that must pass, typical bugs that must fail.

`make test` puts each variant in place of the exercise's answer and runs its test cell.
"""

EXERCISES = {{
    "softplus_derivative": {{
        "correct": {{
            "sigmoid": "def softplus_derivative(x):\\n    return 1 / (1 + np.exp(-x))\\n",
            "exp over one plus exp": "def softplus_derivative(x):\\n"
                                     "    return np.exp(x) / (1 + np.exp(x))\\n",
        }},
        "bugs": {{
            "softplus itself": "def softplus_derivative(x):\\n    return np.log1p(np.exp(x))\\n",
            "sign flipped": "def softplus_derivative(x):\\n    return 1 / (1 + np.exp(x))\\n",
            "exp alone": "def softplus_derivative(x):\\n    return np.exp(x)\\n",
            "sigmoid squared": "def softplus_derivative(x):\\n"
                               "    return (1 / (1 + np.exp(-x))) ** 2\\n",
        }},
    }},
}}
'''


def scaffold(root: Path, assignment: str, today: dt.date | None = None) -> list[Path]:
    """Write the new assignment's master, course.toml entry and variants; the files written."""
    if not ID_PATTERN.match(assignment):
        raise ScaffoldError(f"'{assignment}' is not an assignment id like 06-softplus (two "
                            "digits, a dash, lower-case words joined by dashes)")
    folder = root / "solutions" / assignment
    if folder.exists():
        raise ScaffoldError(f"solutions/{assignment}/ exists already; pick another id")
    topic = assignment.split("-", 1)[1].replace("-", "_")
    title = assignment.split("-", 1)[1].replace("-", " ").capitalize()
    folder.mkdir(parents=True)
    written = [folder / f"{topic}.ipynb"]
    nbformat.write(master(title), written[0])
    course_file = root / "course.toml"
    text = course_file.read_text() if course_file.exists() else '[course]\nid = "course"\n'
    if f"[assignments.{assignment}]" not in text:
        due = (today or dt.date.today()) + dt.timedelta(days=14)
        course_file.write_text(text.rstrip("\n") + f"\n\n[assignments.{assignment}]\n"
                               f"due = {due.isoformat()}T23:59:00Z\n")
        written.append(course_file)
    variants = root / "tests" / "notebooks" / "variants" / f"v{assignment.replace('-', '_')}.py"
    if not variants.exists():
        variants.parent.mkdir(parents=True, exist_ok=True)
        variants.write_text(VARIANTS.format(assignment=assignment))
        written.append(variants)
    return written
