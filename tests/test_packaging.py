"""The wheel ships every package: installed into a clean venv, every module imports from it."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"autograder": ROOT / "autograder", "coursekit": ROOT / "course" / "coursekit",
           "autodiff": ROOT / "solutions" / "autodiff"}
# Not modules to import: the CLI's entry point runs it; nbgrader's config file is read by traitlets.
NOT_IMPORTED = {"__main__.py", "nbgrader_config.py"}
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "submitted", ".ipynb_checkpoints")


def source_modules() -> list[str]:
    """Every module of the three packages, by dotted name, as the source tree has them."""
    names = []
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder)
            if "submitted" in rel.parts or rel.name in NOT_IMPORTED:
                continue
            parts = [package, *rel.with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def build_wheel(out: Path) -> Path:
    """Build the kit's wheel from a copy of the sources (the checkout gets no build/ folder)."""
    tree = out / "src"
    for name in ("pyproject.toml", "README.md"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tree / name)
    for folder in SOURCES.values():
        shutil.copytree(folder, tree / folder.relative_to(ROOT), ignore=IGNORE)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out / "dist"), str(tree)],
        capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    warned = [line for line in built.stderr.splitlines()
              if "BuildBackendWarning" in line or "DeprecationWarning" in line]
    assert not warned, "setuptools warns while building the kit:\n" + "\n".join(warned)
    (wheel,) = (out / "dist").glob("*.whl")
    return wheel


def install_in_clean_venv(wheel: Path, folder: Path) -> tuple[Path, Path, Path]:
    """A new venv in ``folder`` with ``wheel`` installed: (venv, its python, its site-packages).

    The dependencies come from the kit's venv (a path, not its .pth files: the kit's editable
    install of these very packages stays out of sight)."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True, check=True,
                          timeout=60)
    Path(site.stdout.strip(), "kit-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-build-isolation", str(wheel)],
        capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, f"pip install failed:\n{installed.stderr}"
    return venv, python, Path(site.stdout.strip())


@pytest.mark.slow
def test_the_wheel_installs_every_package_in_a_clean_venv(tmp_path):
    venv, python, site = install_in_clean_venv(build_wheel(tmp_path), tmp_path)

    modules = source_modules()
    script = ("import importlib, json, sys\n"
              "found = {}\n"
              "for name in sys.argv[1:]:\n"
              "    found[name] = importlib.import_module(name).__file__\n"
              "print(json.dumps(found))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    ran = subprocess.run([str(python), "-c", script, *modules], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, f"a module does not import from the wheel:\n{ran.stderr}"
    found = json.loads(ran.stdout)
    outside = {name: file for name, file in found.items()
               if not Path(file).resolve().is_relative_to(venv.resolve())}
    assert not outside, f"imported from outside the clean venv, not from the wheel: {outside}"
    for data in ("autograder/exercises.json", "autograder/nbgrader_config.py",
                 "autograder/ci/github-classroom.yml", "autograder/examples/expected.json"):
        assert (site / data).is_file(), f"the wheel lacks {data}"


TEST_ONLY = {"pytest", "hypothesis", "jsonschema", "yaml", "playwright", "autograd", "ruff"}


def test_the_packages_import_no_test_only_dependency():
    """What only tests use belongs in the `test` extra, and the packages must not need it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert "jsonschema" not in runtime and "pyyaml" not in runtime
    for folder in SOURCES.values():
        for path in sorted(folder.rglob("*.py")):
            if "submitted" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                used = {n.split(".")[0] for n in names} & TEST_ONLY
                assert not used, f"{path.relative_to(ROOT)} imports {used}, a test-only dependency"
