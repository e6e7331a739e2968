"""The conda environment and the pip project install the same dependencies."""

from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def pip_requirements_of_environment_yml() -> set[str]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml must have exactly one `pip:` list"
    return {line.replace(" ", "") for line in pip_lists[0]}


def requirements_of_pyproject() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    everything = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        everything += extra
    return {line.replace(" ", "") for line in everything}


def test_environment_yml_matches_pyproject():
    in_conda = pip_requirements_of_environment_yml()
    in_pip = requirements_of_pyproject()
    assert in_conda == in_pip, (
        f"environment.yml and pyproject.toml disagree.\n"
        f"only in environment.yml: {sorted(in_conda - in_pip)}\n"
        f"only in pyproject.toml: {sorted(in_pip - in_conda)}\n"
        "Edit both so each lists the same requirement with the same version specifier."
    )
