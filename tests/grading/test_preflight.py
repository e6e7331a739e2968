"""The grader's start-up check of a kernel works wherever `grade` is called from, a thread that
already runs an event loop included (a test runner's after Playwright, a notebook's)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from autograder.course import REPO_ROOT
from autograder.gradebook.batch import BatchOptions, make_sandbox
from autograder.sandbox.preflight import check_kernels

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("preflight")]


def test_the_kernel_check_runs_inside_a_running_event_loop():
    sandbox = make_sandbox(BatchOptions(root=REPO_ROOT, work=REPO_ROOT / "work"))

    async def from_inside_a_loop():
        check_kernels(sandbox)  # asyncio.run() here would refuse: a loop is running
        return "checked"

    # in a thread of its own: this test's own thread may carry a running loop already (a
    # browser test's on the same worker), which is the very case, but asyncio.run() here too
    # would refuse to start the loop the check must be called from
    found = []
    thread = threading.Thread(target=lambda: found.append(asyncio.run(from_inside_a_loop())))
    thread.start()
    thread.join(120)
    assert found == ["checked"]
