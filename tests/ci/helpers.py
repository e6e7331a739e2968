"""Shared by the CI tests: the example class, the schemas, running commands like a runner does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

from autograder.course import REPO_ROOT

EXAMPLES = REPO_ROOT / "autograder" / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
CI_FOLDER = REPO_ROOT / "autograder" / "ci"
BIN = Path(sys.executable).parent


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((CI_FOLDER / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def runner_env(**extra: str) -> dict[str, str]:
    """A runner's environment: the venv's bin/ on PATH, no CI variables of this machine."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "GITLAB_", "AUTOGRADER_", "CI_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def start(argv: list[str], cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=cwd, env=runner_env(**env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: int = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def expected_total(student: str, assignments: list[str]) -> float:
    return sum(EXPECTED[student][a]["score"] for a in assignments)
