"""The points a notebook's prose states ("Exercise 1 (2 points)", "14 points in all") agree
with its nbgrader metadata; a changed points value without the prose fails."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.authoring.prose_points import disagreements
from autograder.course import REPO_ROOT, existing_assignments

MASTERS = sorted(p for a in existing_assignments(REPO_ROOT)
                 for p in (REPO_ROOT / "solutions" / a).glob("*.ipynb"))


@pytest.mark.parametrize("path", MASTERS, ids=lambda p: p.parent.name)
def test_points_in_the_prose_agree_with_the_metadata(path):
    assert disagreements(path) == []


def test_a_points_change_the_prose_does_not_follow_is_caught(tmp_path):
    path = REPO_ROOT / "solutions" / "01-derivatives" / "derivatives.ipynb"
    nb = nbformat.read(path, as_version=4)
    first_test = next(c for c in nb.cells if c.cell_type == "code"
                      and c.metadata.get("nbgrader", {}).get("grade"))
    first_test.metadata.nbgrader["points"] += 1
    changed = Path(tmp_path) / path.name
    nbformat.write(nb, changed)
    found = disagreements(changed)
    assert any("points in all" in p for p in found)
    assert any(p.startswith(f"{path.name}: Exercise 1 says 2 points") for p in found)
