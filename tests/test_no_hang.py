"""No test can hold the run: each has a time limit, and one it stops says what it waited for."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import tomllib

from tests.conftest import limit_for

ROOT = Path(__file__).resolve().parent.parent

HANGING_TEST = '''
import time
from tests.waits import waiting_for

def test_waits_for_ever():
    with waiting_for("the kettle"):
        with waiting_for("the water to boil"):
            time.sleep(600)
'''


def test_the_suite_has_a_time_limit_per_test():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]
    assert 60 <= options.get("timeout", 0) <= 600, (
        "pyproject.toml's [tool.pytest.ini_options] needs `timeout` (pytest-timeout): "
        f"a per-test limit of minutes, not {options.get('timeout')!r}")
    # signal: raised inside the test, so its fixtures stop their servers and browsers
    assert options.get("timeout_method") == "signal"


def test_long_kinds_of_test_get_a_longer_limit_and_others_the_ordinary_one():
    assert limit_for({"grading", "xdist_group"}) == 900
    assert limit_for({"notebooks", "slow"}) == 900
    assert limit_for({"notebooks"}) == 600
    assert limit_for({"parametrize"}) is None


def test_a_test_past_its_limit_fails_in_time_naming_what_it_waited_for(tmp_path):
    (tmp_path / "test_hangs.py").write_text(HANGING_TEST)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), "-p", "tests.waits", "-p", "no:cacheprovider",
         "-o", "timeout=2", "test_hangs.py"],
        cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stdout + done.stderr
    assert took < 60, f"the hanging test took {took:.0f} s to stop (limit 2 s)"
    summary = next(line for line in done.stdout.splitlines() if line.startswith("FAILED"))
    assert "Timeout (>2.0s)" in summary, done.stdout
    assert "while waiting for: the water to boil < the kettle" in summary, done.stdout
