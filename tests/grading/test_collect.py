"""Collect: the four accepted layouts, the refusal message, and per-notebook named errors."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from dateutil.tz import gettz

from autograder.collect.layouts import LayoutError
from autograder.collect.submissions import collect, detect_layout

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
    with zipfile.ZipFile(source / "bob.zip", "w") as zf:
        zf.writestr("chain.ipynb", NOTEBOOK)
    with zipfile.ZipFile(source / "cat.zip", "w") as zf:
        zf.writestr("01-derivatives/derivatives.ipynb", NOTEBOOK)
        zf.writestr("../../escaped.ipynb", NOTEBOOK)
    (source / "eve.zip").write_bytes(b"not a zip at all")
    subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
    assert {k for k, s in subs.items() if not s.problems} == {("ada", "01-derivatives"),
                                                                ("bob", "02-chain-rule")}
    assert not list(tmp_path.rglob("escaped.ipynb"))
    for student, reason in (("cat", "climbs out of the archive"), ("eve", "BadZipFile")):
        for assignment in CATALOGUE:  # that student's named error, for every assignment
            (outcome,) = subs[(student, assignment)].problems.values()
            assert outcome.kind == "bad archive" and reason in outcome.detail, outcome


def _zip(path: Path, entries: list[tuple[str, bytes]], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (0o120777 << 16)  # a symlink entry
            zf.writestr(info, "../../solutions/01-derivatives/derivatives.ipynb")
    return path


@pytest.mark.parametrize("name,entries,link,reason", [
    ("long-name", [("a" * 300 + ".ipynb", NOTEBOOK.encode())], None, "too long"),
    ("clash", [("01-derivatives", b"x"), ("01-derivatives/derivatives.ipynb",
                                          NOTEBOOK.encode())], None, "both a file and a folder"),
    ("absolute", [("/etc/derivatives.ipynb", NOTEBOOK.encode())], None, "absolute"),
    ("dotdot", [("a/../../derivatives.ipynb", NOTEBOOK.encode())], None, "'..'"),
    ("bomb", [("01-derivatives/derivatives.ipynb", b"0" * (51 * 1024 * 1024))], None,
     "bytes uncompressed"),
    ("link", [], "01-derivatives/derivatives.ipynb", "symbolic link"),
    ("twice", [("chain.ipynb", b"1"), ("chain.ipynb", b"2")], None, "twice"),
])
def test_every_zip_problem_is_that_students_named_error_and_the_rest_is_collected(
        tmp_path, name, entries, link, reason):
    source = tmp_path / "zips"
    source.mkdir()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        _zip(source / f"{name}.zip", entries, link)
    _zip(source / "ada.zip", [("01-derivatives/derivatives.ipynb", NOTEBOOK.encode())])
    subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
    assert subs[("ada", "01-derivatives")].problems == {}
    for assignment in CATALOGUE:
        (outcome,) = subs[(name, assignment)].problems.values()
        assert outcome.kind == "bad archive" and reason in outcome.detail, outcome
        assert f"{name}.zip" in outcome.detail
    assert not (tmp_path / "work" / "collect").exists()  # staging removed
    assert not list((tmp_path / "work" / "submitted" / name).rglob("*.ipynb"))


def _linked_sources(tmp_path: Path) -> tuple[Path, Path]:
    """A master elsewhere and a classmate's notebook: what a link would point at."""
    master = _write(tmp_path / "solutions" / "01-derivatives" / "derivatives.ipynb",
                    NOTEBOOK.replace('"cells": []', '"cells": [], "x": "MASTER"'))
    return master, master.parent


@pytest.mark.parametrize("layout", ["nbgrader", "clones", "exchange", "ci"])
def test_no_link_is_followed_from_any_source_and_each_is_a_named_error(tmp_path, layout):
    master, master_folder = _linked_sources(tmp_path)
    src = tmp_path / "in"
    if layout == "exchange":
        (src / "course" / "outbound").mkdir(parents=True)
        inbound = src / "course" / "inbound"
        eve = inbound / "eve+01-derivatives+2025-03-01 12:00:00.000000 UTC"
        eve.mkdir(parents=True)
        (eve / "derivatives.ipynb").symlink_to(master)
        ada = _write(inbound / "ada+01-derivatives+2025-03-01 12:00:00.000000 UTC"
                     / "derivatives.ipynb").parent
        (inbound / "bob+01-derivatives+2025-03-01 12:00:00.000000 UTC").symlink_to(ada)
        source = src / "course"
    else:
        base = src / ("submitted" if layout == "nbgrader" else "")
        git = layout in ("clones", "ci")
        for student in ("ada", "eve", "bob", "kim"):
            (base / student).mkdir(parents=True)
            if git:
                (base / student / ".git").mkdir()
        _write(base / "ada" / "01-derivatives" / "derivatives.ipynb")
        (base / "eve" / "01-derivatives").mkdir()
        (base / "eve" / "01-derivatives" / "derivatives.ipynb").symlink_to(master)  # a file
        (base / "bob" / "01-derivatives").symlink_to(master_folder)  # a folder
        (base / "kim" / "02-chain-rule").mkdir()
        (base / "kim" / "02-chain-rule" / "chain.ipynb").symlink_to(
            base / "ada" / "01-derivatives" / "derivatives.ipynb")  # a classmate's work
        source = src
        if layout == "ci":  # `autograder ci PATH` stages the checkout as one clone
            from autograder.ci.command import _stage
            staging = tmp_path / "staging"
            _stage(base / "eve", staging, "eve")
            source = staging
    subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
    copied = list((tmp_path / "work" / "submitted").rglob("*.ipynb"))
    assert not any(p.is_symlink() or "MASTER" in p.read_text() for p in copied)
    linked = {k: s for k, s in subs.items() if any(o.kind == "symbolic link"
                                                   for o in s.problems.values())}
    assert ("eve", "01-derivatives") in linked
    for sub in linked.values():
        for outcome in sub.problems.values():
            assert "symbolic link" in outcome.detail and "not followed" in outcome.detail
    if layout != "ci":
        assert subs[("ada", "01-derivatives")].problems == {}
        assert ("bob", "01-derivatives") in linked
    if layout in ("nbgrader", "clones"):
        assert ("kim", "02-chain-rule") in linked
        assert "chain.ipynb" in linked[("kim", "02-chain-rule")].problems["chain"].detail


def test_a_linked_student_folder_is_refused_naming_the_path(tmp_path):
    _write(tmp_path / "other" / "01-derivatives" / "derivatives.ipynb")
    _write(tmp_path / "in" / "ada" / "01-derivatives" / "derivatives.ipynb")
    (tmp_path / "in" / "eve").symlink_to(tmp_path / "other")
    subs = _by_key(collect(tmp_path / "in", tmp_path / "work" / "submitted", CATALOGUE))
    assert subs[("ada", "01-derivatives")].problems == {}
    (outcome,) = subs[("eve", "01-derivatives")].problems.values()
    assert outcome.kind == "symbolic link" and str(tmp_path / "in" / "eve") in outcome.detail


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
    assert "exchange inbound/<student>+<assignment>+<timestamp>" in message


def test_wrong_assignment_missing_and_not_a_notebook_are_named(tmp_path):
    source = tmp_path / "in"
    _write(source / "ada" / "01-derivatives" / "chain.ipynb")
    _write(source / "bob" / "01-derivatives" / "derivatives.py", "print('hi')")
    (source / "cy" / "01-derivatives").mkdir(parents=True)
    subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
    assert subs[("ada", "01-derivatives")].problems["derivatives"].kind == "wrong assignment"
    assert "02-chain-rule" in subs[("ada", "01-derivatives")].problems["derivatives"].detail
    assert subs[("bob", "01-derivatives")].problems["derivatives"].kind == "not a notebook"
    assert subs[("cy", "01-derivatives")].problems["derivatives"].kind == "missing notebook"


def test_grade_command_refuses_a_wrong_folder_with_exit_code_2(tmp_path):
    import subprocess
    import sys

    _write(tmp_path / "loose" / "derivatives.ipynb")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "loose"),
                           "--root", str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert "is not a submissions folder" in done.stderr and "zip" in done.stderr


# --- nbgrader's exchange: `<root>/<course>/inbound/<student>+<assignment>+<timestamp>[+<random>]/`

COURSE = "autodiff"
NB_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's default Exchange.timestamp_format


def _exchange_config(tmp: Path, **course):
    from traitlets.config import Config

    config = Config()
    config.Exchange.root = str(tmp / "exchange")
    config.Exchange.cache = str(tmp / "cache")
    config.CourseDirectory.root = str(tmp / "instructor")
    config.CourseDirectory.course_id = COURSE
    config.CourseDirectory.assignment_id = "01-derivatives"
    for name, value in course.items():
        setattr(config.CourseDirectory, name, value)
    return config


def _run_exchange(kind, config) -> None:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory

    kind(coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
         config=config).start()


def _nbgrader_submit(tmp: Path, student: str, marker: str) -> None:
    """What a student's "Submit" on JupyterHub does: nbgrader's own ExchangeSubmit, in process."""
    from nbgrader.exchange.default import ExchangeSubmit

    home = tmp / "home" / student
    notebook = json.loads(NOTEBOOK)
    notebook["metadata"]["marker"] = marker
    _write(home / "01-derivatives" / "derivatives.ipynb", json.dumps(notebook))
    config = _exchange_config(tmp, student_id=student)
    config.Exchange.assignment_dir = str(home)
    _run_exchange(ExchangeSubmit, config)


@pytest.fixture
def exchange(tmp_path):
    """A real exchange: 01-derivatives released, ada submits twice (second is newer), bob once."""
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    _write(tmp_path / "instructor" / "release" / "01-derivatives" / "derivatives.ipynb")
    _run_exchange(ExchangeReleaseAssignment, _exchange_config(tmp_path))
    for student, marker in [("ada", "first"), ("bob", "only"), ("ada", "second")]:
        _nbgrader_submit(tmp_path, student, marker)
    return tmp_path / "exchange"


def _marker(sub) -> str:
    return json.loads(sub.notebooks["derivatives"].read_text())["metadata"]["marker"]


def test_exchange_inbound_from_nbgrader_submit_takes_each_students_latest(exchange, tmp_path,
                                                                          capsys):
    inbound = exchange / COURSE / "inbound"
    names = sorted(p.name for p in inbound.iterdir())
    assert len(names) == 3  # nbgrader keeps every submission; the random suffix keeps them apart
    for name in names:  # the name nbgrader 0.9.6 built: student+assignment+timestamp+random
        assert re.fullmatch(r"(ada|bob)\+01-derivatives\+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} "
                            r"UTC\+[A-Za-z0-9_-]{12}", name), name
    for source in (inbound, exchange / COURSE, exchange):  # inbound/, the course, the root
        assert detect_layout(source) == ("exchange", inbound)
        subs = _by_key(collect(source, tmp_path / "work" / "submitted", CATALOGUE))
        assert set(subs) == {("ada", "01-derivatives"), ("bob", "01-derivatives")}
        assert _marker(subs[("ada", "01-derivatives")]) == "second"
        assert _marker(subs[("bob", "01-derivatives")]) == "only"
        assert all(s.problems == {} for s in subs.values())
        copied = tmp_path / "work/submitted/ada/01-derivatives"
        # nbgrader's timestamp.txt and submission_secret.txt come along (release_feedback
        # and fetch_feedback need them); the time is the exchange's
        assert sorted(p.name for p in copied.iterdir()) == [
            "derivatives.ipynb", "submission_secret.txt", "timestamp-source.txt",
            "timestamp.txt"]
        assert (copied / "timestamp.txt").read_text() == subs[("ada", "01-derivatives")
                                                              ].submitted_at
        log = capsys.readouterr().err
        assert "ada/01-derivatives: submitted 2 times" in log and "1 older copy skipped" in log
        assert "bob" not in log


def test_exchange_latest_is_by_time_not_by_name_and_random_suffix_is_optional(tmp_path):
    """Folder names built as nbgrader's ExchangeSubmit builds them, with Exchange.timezone set."""
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    (tmp_path / "exchange" / COURSE / "outbound").mkdir(parents=True)
    utc = datetime(2025, 3, 1, 12, 0, tzinfo=gettz("UTC"))
    # 13:30 UTC: later, though its name ("... 08:30:00.000000 EST") sorts before "... 12:00 UTC"
    new_york = datetime(2025, 3, 1, 8, 30, tzinfo=gettz("America/New_York"))
    older = "{}+{}+{}+{}".format("ada", "01-derivatives", utc.strftime(NB_FORMAT), "AAAAAAAAAAAA")
    newer = "{}+{}+{}".format("ada", "01-derivatives", new_york.strftime(NB_FORMAT))
    plus = "{}+{}+{}".format("b+c", "02-chain-rule", utc.strftime(NB_FORMAT))  # '+' in the id
    _write(inbound / older / "derivatives.ipynb", json.dumps({**json.loads(NOTEBOOK),
                                                             "metadata": {"marker": "older"}}))
    _write(inbound / newer / "derivatives.ipynb", json.dumps({**json.loads(NOTEBOOK),
                                                             "metadata": {"marker": "newer"}}))
    _write(inbound / plus / "chain.ipynb")
    subs = _by_key(collect(tmp_path / "exchange", tmp_path / "work" / "submitted", CATALOGUE))
    assert set(subs) == {("ada", "01-derivatives"), ("b+c", "02-chain-rule")}
    assert _marker(subs[("ada", "01-derivatives")]) == "newer"


@pytest.mark.parametrize("bad", ["ada-01-derivatives", "ada+01-derivatives+yesterday-ish"])
def test_exchange_malformed_folder_name_is_reported_and_skipped(exchange, tmp_path, bad, capsys):
    inbound = exchange / COURSE / "inbound"
    (inbound / bad).mkdir()
    (inbound / "notes.txt").write_text("a stray file")
    assert detect_layout(exchange) == ("exchange", inbound)
    subs = _by_key(collect(inbound, tmp_path / "work" / "submitted", CATALOGUE))
    assert set(subs) == {("ada", "01-derivatives"), ("bob", "01-derivatives")}  # it goes on
    message = capsys.readouterr().err
    assert f"'{bad}' is not an nbgrader exchange submission folder name" in message
    assert "<student>+<assignment>+<timestamp>[+<random>]" in message
    assert str(inbound / bad) in message
    assert f"{inbound / 'notes.txt'}: a file in nbgrader's exchange inbound folder" in message


def test_an_exchange_with_nothing_usable_is_refused_saying_why(tmp_path):
    inbound = tmp_path / "exchange" / COURSE / "inbound"
    (tmp_path / "exchange" / COURSE / "outbound").mkdir(parents=True)
    (inbound / "ada-01-derivatives").mkdir(parents=True)
    with pytest.raises(LayoutError, match="holds no submission that can be graded") as error:
        detect_layout(inbound)
    assert "'ada-01-derivatives' is not an nbgrader exchange submission folder name" in str(
        error.value)


def test_exchange_root_with_several_courses_or_nothing_submitted_is_refused(tmp_path):
    root = tmp_path / "exchange"
    (root / "course-a" / "outbound").mkdir(parents=True)
    (root / "course-a" / "inbound").mkdir()
    with pytest.raises(LayoutError, match="nobody has submitted yet"):
        detect_layout(root)
    for course in ("course-a", "course-b"):
        _write(root / course / "inbound" / "ada+01-derivatives+2025-03-01 12:00:00.000000 UTC"
               / "derivatives.ipynb")
    with pytest.raises(LayoutError, match="several courses \\(course-a, course-b\\)"):
        detect_layout(root)
    assert detect_layout(root / "course-b") == ("exchange", root / "course-b" / "inbound")


def test_the_other_layouts_are_still_detected_beside_the_exchange(tmp_path):
    nbgrader = tmp_path / "nbgrader"  # a student called "inbound" is not an exchange
    _write(nbgrader / "inbound" / "01-derivatives" / "derivatives.ipynb")
    _write(nbgrader / "ada" / "01-derivatives" / "derivatives.ipynb")
    zips = tmp_path / "inbound"  # nor is a folder of zips that happens to be called inbound
    zips.mkdir()
    with zipfile.ZipFile(zips / "ada.zip", "w") as zf:
        zf.writestr("derivatives.ipynb", NOTEBOOK)
    clones = tmp_path / "clones"
    (clones / "ada" / ".git").mkdir(parents=True)
    _write(clones / "ada" / "01-derivatives" / "derivatives.ipynb")
    submitted = tmp_path / "course-dir"  # nbgrader course dir: submitted/ wins over the rest
    _write(submitted / "submitted" / "ada" / "01-derivatives" / "derivatives.ipynb")
    (submitted / "inbound").mkdir()
    assert detect_layout(nbgrader) == ("nbgrader", nbgrader)
    assert detect_layout(zips) == ("zip", zips)
    assert detect_layout(clones) == ("clones", clones)
    assert detect_layout(submitted) == ("nbgrader", submitted / "submitted")
    subs = collect(nbgrader, tmp_path / "work" / "submitted", CATALOGUE)
    assert [s.key for s in subs] == [("ada", "01-derivatives"), ("inbound", "01-derivatives")]
