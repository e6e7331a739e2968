"""Every master passes `autograder check`: its answers earn every automatic point through the
real grading path (sandbox, requests to the kernel, verdicts), its stubs earn none, and the
grader can run each of its test cells."""

from __future__ import annotations

import pytest

from autograder.authoring.check import check_assignment, report
from autograder.authoring.release import built_release
from autograder.course import REPO_ROOT, existing_assignments

pytestmark = [pytest.mark.grading]


@pytest.mark.parametrize("assignment", existing_assignments(REPO_ROOT))
def test_master_passes_the_grader(assignment):
    with built_release(REPO_ROOT, assignment) as built:
        problems = check_assignment(assignment, REPO_ROOT, release_folder=built)
    assert not problems, report(assignment, problems)
