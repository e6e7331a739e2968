"""tools/lite/build.py: what it refuses, what it builds the same way twice, and what the built
site holds (every package file with the hash its lock gives it, each from a named source)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "output" / "lite"


def load_build():
    spec = importlib.util.spec_from_file_location("lite_build", ROOT / "tools/lite/build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build()


def test_a_package_file_whose_hash_differs_from_the_official_lock_is_refused(tmp_path):
    wheel = tmp_path / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    wheel.write_bytes(b"not the numpy the lock vouches for")
    with pytest.raises(build.BuildError, match="refusing to serve it"):
        build.verify(wheel, "0" * 64, "a test")
    assert not wheel.exists(), "a refused file must not stay where the site is assembled"


def test_a_matching_file_passes(tmp_path):
    wheel = tmp_path / "x.whl"
    wheel.write_bytes(b"data")
    build.verify(wheel, hashlib.sha256(b"data").hexdigest(), "a test")
    assert wheel.exists()


def test_an_instructor_distribution_must_carry_the_official_lock(tmp_path, monkeypatch):
    dist = tmp_path / "pyodide"
    dist.mkdir()
    (dist / "pyodide-lock.json").write_text(json.dumps({"info": {}, "packages": {}}))
    monkeypatch.setenv("PYODIDE_DIST", str(tmp_path))
    found = build.instructor_distribution(tmp_path / "cache")
    assert found == dist
    with pytest.raises(build.BuildError, match="not the official lock"):
        build.official_lock(found)


def test_a_missing_distribution_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PYODIDE_DIST", str(tmp_path / "nowhere"))
    with pytest.raises(build.BuildError, match="PYODIDE_DIST"):
        build.instructor_distribution(tmp_path / "cache")


def test_the_built_wheels_are_the_same_bytes_every_time(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build.coursekit_wheel(tmp_path / "a").read_bytes()
    second = build.coursekit_wheel(tmp_path / "b").read_bytes()
    assert first == second
    assert build.placeholder_wheel(tmp_path / "a", "sqlite3").read_bytes() == (
        build.placeholder_wheel(tmp_path / "b", "sqlite3").read_bytes())


def test_the_requirements_pin_one_hash_per_package():
    pins = build.pinned_requirements()
    assert {"ipywidgets", "autograd", "ipython", "comm", "tqdm"} <= set(pins)
    assert all(len(sha) == 64 for _, sha in pins.values())


@pytest.mark.skipif(not (SITE / "packages.json").exists(), reason="run `make lite` first")
def test_the_built_site_serves_every_package_with_its_locked_hash():
    build.check_site(SITE)  # raises when a listed file is missing or differs
    packages = json.loads((SITE / "packages.json").read_text())["packages"]
    names = {p["package"] for p in packages}
    assert {"numpy", "matplotlib", "ipywidgets", "autograd", "coursekit", "ipython"} <= names
    for package in packages:
        assert package["from"], package
    config = json.loads((SITE / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][build.KERNEL_PLUGIN]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.js"
    assert kernel["disablePyPIFallback"] is True
