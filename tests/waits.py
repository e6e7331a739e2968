"""What a test is waiting for, named in its failure when pytest-timeout stops it.

pytest-timeout (configured in pyproject.toml) fails a test that runs past its limit by raising
inside it, wherever it is. Wrap each wait that can block (a server start, a kernel, a browser
promise, a subprocess) in `waiting_for("...")`: when the timeout's exception passes through it,
the label is added to the exception's notes and to the one-line failure in pytest's summary, so
a timed-out test says "while waiting for: JupyterLite: Run All of 03-forward-mode/..." instead of
only where it stood.

This module is also a pytest plugin (tests/conftest.py loads its hook).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

TIMEOUT_MARK = "from pytest-timeout"
NOTE = "while waiting for: "


def is_timeout(exc: BaseException) -> bool:
    """True for the failure pytest-timeout raises when a test runs past its limit."""
    return TIMEOUT_MARK in str(exc)


@contextmanager
def waiting_for(what: str) -> Iterator[None]:
    """Name the wait in the block; a timeout raised inside it carries the name out."""
    try:
        yield
    except BaseException as exc:
        if is_timeout(exc) and hasattr(exc, "add_note"):
            exc.add_note(NOTE + what)
        raise


def run(argv: list[str], *, timeout: float, what: str | None = None,
        **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run with a timeout that must be given, and a failure that names the command.

    A command still running after `timeout` seconds is killed and the test fails with its name
    and the output it had printed, instead of the whole run waiting for it.
    """
    label = what or " ".join(str(a) for a in argv[:4])
    with waiting_for(label):
        try:
            return subprocess.run(argv, timeout=timeout, **kwargs)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (
                exc.stdout or "")
            pytest.fail(f"{label}: still running after {timeout:.0f} s (killed); its output "
                        f"so far:\n{out[-3000:]}", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Put what a timed-out test was waiting for into its one-line failure in the summary."""
    report = yield
    excinfo = call.excinfo
    if report.failed and excinfo is not None and is_timeout(excinfo.value):
        waits = [n[len(NOTE):] for n in getattr(excinfo.value, "__notes__", [])
                 if n.startswith(NOTE)]
        crash = getattr(report.longrepr, "reprcrash", None)
        if waits and crash is not None:
            # the summary shows the first line only (the notes follow it on lines of their own);
            # innermost first: the innermost waiting_for adds its note first
            first, newline, rest = crash.message.partition("\n")
            crash.message = f"{first} {NOTE}{' < '.join(waits)}{newline}{rest}"
    return report
