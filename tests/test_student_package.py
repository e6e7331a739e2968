"""The student package (`course/pyproject.toml`): coursekit alone, for a JupyterHub image.

Built into a wheel and installed into a clean venv, every coursekit module imports from it, and
nothing of the answers comes with it: no `autodiff`, no master, no hidden test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

from tests.test_packaging import install_in_clean_venv

ROOT = Path(__file__).resolve().parent.parent


def _wheel(tmp_path: Path) -> Path:
    tree = tmp_path / "src"
    shutil.copytree(ROOT / "course" / "coursekit", tree / "coursekit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(ROOT / "course" / "pyproject.toml", tree / "pyproject.toml")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "dist"), str(tree)],
        capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    return wheel


def test_the_student_wheel_holds_coursekit_and_no_answer(tmp_path):
    wheel = _wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(
        (".dist-info", ".data"))}
    assert packages == {"coursekit"}, packages
    for name in names:
        if name.endswith(".py"):
            text = zipfile.ZipFile(wheel).read(name).decode()
            assert "import autodiff" not in text and "from autodiff" not in text, name
            assert "BEGIN HIDDEN TESTS" not in text, name


@pytest.mark.slow
def test_every_coursekit_module_imports_from_the_student_wheel_alone(tmp_path):
    venv, python, _ = install_in_clean_venv(_wheel(tmp_path), tmp_path)
    modules = sorted(f"coursekit.{p.stem}" for p in (ROOT / "course" / "coursekit").glob("*.py")
                     if p.stem != "__init__")
    script = ("import importlib, importlib.util, json, sys\n"
              "found = {n: importlib.import_module(n).__file__ for n in sys.argv[1:]}\n"
              "found['autodiff'] = bool(importlib.util.find_spec('autodiff'))\n"
              "print(json.dumps(found))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    ran = subprocess.run([str(python), "-c", script, *modules], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    assert found.pop("autodiff") is False  # the answers are not installed
    assert all(Path(f).resolve().is_relative_to(venv.resolve()) for f in found.values()), found


def test_the_student_package_needs_nothing_the_kit_does_not_pin():
    kit = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    student = tomllib.loads((ROOT / "course" / "pyproject.toml").read_text())["project"]
    assert set(student["dependencies"]) <= set(kit), set(student["dependencies"]) - set(kit)
