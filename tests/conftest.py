"""Hooks for the whole suite: every test has a time limit, and one stopped by it names what
it waited for.

pytest-timeout's `timeout` in pyproject.toml is the limit of an ordinary test. The kinds of
test below legitimately run long (a module's first test also pays for its module's fixtures:
a JupyterLab or a browser started, a class graded), so they get the generous limit of their
marker unless they carry their own `@pytest.mark.timeout`.
"""

from __future__ import annotations

import pytest

from tests.waits import pytest_runtest_makereport  # noqa: F401 (a hook, registered by name)

LIMIT_OF_MARKER = {
    "notebooks": 600,  # a master notebook run in a real kernel, its training demo included
    "grading": 900,  # a whole class graded in the sandbox, or the CLI run end to end
    "browser": 900,  # JupyterLab started, notebooks run with Run All in Chromium
    "slow": 900,
}


def limit_for(markers: set[str]) -> int | None:
    """The generous limit for a test carrying these markers, or None for the ordinary one."""
    limits = [seconds for name, seconds in LIMIT_OF_MARKER.items() if name in markers]
    return max(limits) if limits else None


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        seconds = limit_for({m.name for m in item.iter_markers()})
        if seconds is not None:
            item.add_marker(pytest.mark.timeout(seconds))


#: Folders of the kit's checkout that a root grader without bwrap makes private (mode & 0700,
#: `autograder.sandbox.policy.private_parts`): tests that grade that way would otherwise leave
#: them closed to the non-root graders of later tests.
_PRIVATE_ON_FALLBACK = ("solutions", "work", "output", ".git")


@pytest.fixture(scope="session")
def _checkout_modes():
    """The modes of those folders when the session started (before any module's fixture)."""
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    modes = {}
    for name in _PRIVATE_ON_FALLBACK:
        try:
            modes[root / name] = os.stat(root / name).st_mode & 0o7777
        except OSError:
            continue
    return modes


@pytest.fixture(autouse=True)
def _checkout_modes_restored(_checkout_modes):
    """Every test leaves the checkout's folder modes as the session found them."""
    import os

    yield
    for path, mode in _checkout_modes.items():
        try:
            if os.stat(path).st_mode & 0o7777 != mode:
                os.chmod(path, mode)
        except OSError:
            pass
