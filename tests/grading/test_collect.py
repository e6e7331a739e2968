"""Collect: the three accepted layouts, the refusal message, and per-notebook named errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from autograder.collect import LayoutError, collect, detect_layout

CATALOGUE = {"01-derivatives": ["derivatives"], "02-chain-rule": ["chain"]}
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _write(path: Path, text: str = NOTEBOOK) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _by_key(subs):
    return {s.key: s for s in subs}


def test_nbgrader_layout_with_or_without_the_submitted_folder(tmp_path):
    _write(tmp_path / "in" / "submitted" / "ada" / "01-derivatives" / "derivatives.ipynb")
    for source in (tmp_path / "in", tmp_path / "in" / "submitted"):
        subs = collect(source, tmp_path / "work" / "submitted", CATALOGUE)
        assert [s.key for s in subs] == [("ada", "01-derivatives")]
        assert subs[0].problems == {}
        assert (tmp_path / "work/submitted/ada/01-derivatives/derivatives.ipynb").exists()


def test_zip_per_student_with_folders_or_bare_notebooks_and_no_path_escape(tmp_path):
    source = tmp_path / "zips"
    source.mkdir()
    with zipfile.ZipFile(source / "ada.zip", "w") as zf:
        zf.writestr("homework/01-derivatives/derivatives.ipynb", NOTEBOOK)
        zf.writestr("../../escaped.ipynb", NOTEBOOK)
    with zipfile.ZipFile(source / "bob.zip", "w") as zf:
        zf.writestr("chain.ipynb", NOTEBOOK)
    (source / "eve.zip").write_bytes(b"not a zip at all")
    subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
    assert set(subs) == {("ada", "01-derivatives"), ("bob", "02-chain-rule")}
    assert not list(tmp_path.rglob("escaped.ipynb"))


def test_repository_clones_with_notebooks_under_course(tmp_path):
    clone = tmp_path / "clones" / "ada-gh"
    (clone / ".git").mkdir(parents=True)
    _write(clone / "course" / "02-chain-rule" / "chain.ipynb")
    subs = collect(tmp_path / "clones", tmp_path / "work" / "submitted", CATALOGUE)
    assert [s.key for s in subs] == [("ada-gh", "02-chain-rule")]


@pytest.mark.parametrize("make", ["loose notebooks", "a file", "empty"])
def test_anything_else_is_refused_naming_the_layouts(tmp_path, make):
    target = tmp_path / "x"
    if make == "loose notebooks":
        _write(target / "derivatives.ipynb")
    elif make == "a file":
        target = _write(tmp_path / "derivatives.ipynb")
    else:
        target.mkdir()
    with pytest.raises(LayoutError) as error:
        detect_layout(target)
    message = str(error.value)
    assert "submitted/<student>/<assignment>/" in message and "zip" in message
    assert "clones" in message and str(target) in message


def test_wrong_assignment_missing_and_not_a_notebook_are_named(tmp_path):
    source = tmp_path / "in"
    _write(source / "ada" / "01-derivatives" / "chain.ipynb")
    _write(source / "bob" / "01-derivatives" / "derivatives.py", "print('hi')")
    (source / "cy" / "01-derivatives").mkdir(parents=True)
    subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
    assert subs[("ada", "01-derivatives")].problems["derivatives"].startswith("wrong assignment")
    assert "02-chain-rule" in subs[("ada", "01-derivatives")].problems["derivatives"]
    assert subs[("bob", "01-derivatives")].problems["derivatives"].startswith("not a notebook")
    assert subs[("cy", "01-derivatives")].problems["derivatives"].startswith("missing notebook")


def test_grade_command_refuses_a_wrong_folder_with_exit_code_2(tmp_path):
    import subprocess
    import sys

    _write(tmp_path / "loose" / "derivatives.ipynb")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "loose"),
                           "--root", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "is not a submissions folder" in done.stderr and "zip" in done.stderr
