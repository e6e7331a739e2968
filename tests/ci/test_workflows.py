"""The CI templates: valid YAML, GitHub Classroom's names, and the commands they run parse with
the real `autograder` parser (the same commands the other tests in this folder run)."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from autograder.ci.bundle import RUN_AUTOGRADER
from autograder.cli import build_parser

from .helpers import CI_FOLDER, validator

WORKFLOWS = sorted(CI_FOLDER.glob("*.yml"))


def _run_lines(document) -> list[str]:
    """Every shell line of every `run:`/`script:` entry, wherever it sits in the document."""
    lines: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("run", "script", "before_script") and isinstance(value, str):
                lines += value.splitlines()
            elif key in ("script", "before_script") and isinstance(value, list):
                lines += [str(v) for v in value]
            else:
                lines += _run_lines(value)
    elif isinstance(document, list):
        for item in document:
            lines += _run_lines(item)
    return lines


def _autograder_argv(line: str) -> list[str] | None:
    """The arguments after `autograder`, with CI expressions replaced by sample values."""
    if not re.search(r"autograder (ci|merge) ", line):
        return None
    line = re.sub(r"\$\{\{[^}]*\}\}", "X", line)
    words = shlex.split(line.replace("\\\n", " "))
    for i, word in enumerate(words):
        if word.endswith("autograder") and i + 1 < len(words) and words[i + 1] in ("ci",
                                                                                   "merge"):
            return words[i + 1:]
    return None


def _commands(text: str) -> list[list[str]]:
    found = []
    for line in _run_lines(yaml.safe_load(text)):
        argv = _autograder_argv(line)
        if argv:
            found.append(argv)
    return found


def test_every_template_is_valid_yaml_and_runs_autograder():
    assert {p.name for p in WORKFLOWS} >= {"github-classroom.yml", "github-instructor-matrix.yml",
                                           "gitlab-ci.yml"}
    for path in WORKFLOWS:
        commands = _commands(path.read_text())
        assert any(c[0] == "ci" for c in commands), f"{path.name} never runs `autograder ci`"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_commands_parse_with_the_real_cli(path):
    parser = build_parser()
    for argv in _commands(path.read_text()):
        args = parser.parse_args(argv)  # exits (SystemExit) on an unknown option
        assert args.command == argv[0]


def test_classroom_workflow_follows_github_classroom_conventions():
    workflow = yaml.safe_load((CI_FOLDER / "github-classroom.yml").read_text())
    assert workflow["name"] == "Autograding Tests"
    assert {"push", "repository_dispatch"} <= set(workflow["on"])
    assert workflow["permissions"]["checks"] == "write"
    job = workflow["jobs"]["run-autograding-tests"]
    assert "github-classroom[bot]" in job["if"]
    steps = job["steps"]
    grade = next(s for s in steps if "autograder ci" in s.get("run", ""))
    reporter = next(s for s in steps
                    if s.get("uses", "").startswith("classroom-resources/"
                                                    "autograding-grading-reporter@"))
    # the reporter reads <RUNNER ID>_RESULTS, base64 JSON, from the runner step's `result` output
    assert reporter["with"]["runners"] == grade["id"]
    assert reporter["env"] == {f"{grade['id'].upper()}_RESULTS":
                               f"${{{{ steps.{grade['id']}.outputs.result }}}}"}
    private = next(s for s in steps if s.get("with", {}).get("ssh-key"))
    assert "secrets." in private["with"]["ssh-key"] and private["with"]["path"] == "grader"
    assert "--root grader" in grade["run"]


def test_matrix_workflow_grades_each_submission_then_merges():
    workflow = yaml.safe_load((CI_FOLDER / "github-instructor-matrix.yml").read_text())
    jobs = workflow["jobs"]
    assert "matrix" in jobs["grade"]["strategy"]
    assert jobs["merge"]["needs"] == "grade"
    assert any(c[0] == "merge" for c in _commands(
        (CI_FOLDER / "github-instructor-matrix.yml").read_text()))


def test_run_autograder_runs_autograder_ci_with_options_that_exist():
    script = RUN_AUTOGRADER.replace("\\\n", " ")
    line = next(ln for ln in script.splitlines() if " -m autograder ci " in ln)
    argv = shlex.split(line.split(" -m autograder ", 1)[1])
    args = build_parser().parse_args(argv)
    assert args.command == "ci" and str(args.gradescope).endswith("results/results.json")
    assert 'ROOT="${AUTOGRADER_ROOT:-/autograder}"' in RUN_AUTOGRADER


def test_result_schemas_are_valid_json_schemas():
    for name in ("gradescope_results.schema.json", "classroom_result.schema.json"):
        validator(name)
