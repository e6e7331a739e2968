"""Nothing a student writes is taken as a claim: submission times come from what the student
cannot set (a zip's arrival in the grader's folder, never its entry dates; an exchange entry's
change time, never its name alone), the exchange is read strictly (another user's folder named
for a victim is refused, a stray entry is reported and skipped, the batch goes on), and the
grade table says where each time came from.

Through the real command line (`autograder grade`, a pool of 2)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

from autograder.collect.exchange import CHANGE_TIME, NAME_TIME
from autograder.collect.submissions import ZIP_TIME
from autograder.gradebook.record import ledger_rows
from tests.grading.fixture_course import ASSIGNMENT, NOTEBOOK, fill, make_course

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("trusted-claims")]

BIN = Path(sys.executable).parent
DUE = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
COURSE_TOML = f"""
[assignments.{ASSIGNMENT}]
due = {DUE.strftime('%Y-%m-%dT%H:%M:%SZ')}

[late]
penalty_per_day = 0.1
max_penalty = 0.5
"""
STAMP = "%Y-%m-%d %H:%M:%S.%f %Z"


def grade(root: Path, source: Path, work: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "autograder", "grade", str(source), "--root",
                           str(root), "--work", str(work), "--workers", "2", "--quiet"], env=env,
                          capture_output=True, text=True, timeout=600)


def rows(stdout: str) -> dict[str, str]:
    return {line.split()[0]: line for line in stdout.splitlines()
            if line.split() and line.split()[1:2] == [ASSIGNMENT]}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("claims"))
    (root / "course.toml").write_text(COURSE_TOML)
    return root


def _zip(path: Path, root: Path, entry_date: tuple, mtime: datetime) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(f"{ASSIGNMENT}/{NOTEBOOK}.ipynb", date_time=entry_date)
        zf.writestr(info, nbformat.writes(fill(root)))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def test_a_zips_time_is_its_arrival_never_its_entry_dates(course, tmp_path):
    zips = tmp_path / "zips"
    zips.mkdir()
    # entries dated a month early, arrived two days late; and the other way round
    _zip(zips / "ada.zip", course, (2026, 2, 1, 0, 0, 0), datetime(2026, 3, 3, 12, 0,
                                                                    tzinfo=timezone.utc))
    _zip(zips / "bob.zip", course, (2027, 1, 1, 0, 0, 0), datetime(2026, 2, 28, 12, 0,
                                                                    tzinfo=timezone.utc))
    done = grade(course, zips, tmp_path / "work")
    assert done.returncode == 0, done.stderr[-3000:]
    table = rows(done.stdout)
    assert "late by 2.0 days" in table["ada"], done.stdout
    assert "late" not in table["bob"].split("graded", 1)[1], done.stdout
    assert "Submission times from:" in done.stdout
    assert f"  {ZIP_TIME}: ada/{ASSIGNMENT}, bob/{ASSIGNMENT}" in done.stdout


def _entry(inbound: Path, student: str, when: datetime, owner: int, root: Path,
           suffix: str = "") -> Path:
    folder = inbound / f"{student}+{ASSIGNMENT}+{when.strftime(STAMP)}{suffix}"
    folder.mkdir()
    (folder / f"{NOTEBOOK}.ipynb").write_text(nbformat.writes(fill(root)))
    for path in (folder / f"{NOTEBOOK}.ipynb", folder):
        os.chown(path, owner, owner)
    return folder


@pytest.mark.skipif(os.geteuid() != 0, reason="owning entries as other users needs root")
def test_the_exchange_refuses_entries_not_owned_by_their_student_and_skips_strays(course,
                                                                                  tmp_path):
    try:
        nobody = pwd.getpwnam("nobody").pw_uid  # a student whose user name is "nobody"
        other = pwd.getpwnam("daemon").pw_uid  # another user of the hub
    except KeyError:
        pytest.skip("no 'nobody' and 'daemon' users here")
    nameless = 1_700_000_000 + 4242  # a uid with no user name
    exchange = tmp_path / "exchange" / "autodiff"
    inbound = exchange / "inbound"
    (exchange / "outbound").mkdir(parents=True)
    inbound.mkdir()
    os.chmod(inbound, 0o2733)  # as nbgrader makes it: anyone may write, nobody may list
    early = datetime(2026, 2, 28, 12, 0, tzinfo=timezone.utc)  # before the due date
    later = datetime(2026, 12, 31, 12, 0, tzinfo=timezone.utc)  # "later": would win
    mine = _entry(inbound, "nobody", early, nobody, course)
    forged = _entry(inbound, "nobody", later, other, course, "+AAAAAAAAAAAA")
    (forged / f"{NOTEBOOK}.ipynb").write_text(nbformat.writes(fill(course, square=None,
                                                                   cube=None)))
    os.chown(forged / f"{NOTEBOOK}.ipynb", other, other)
    nameless_entry = _entry(inbound, "eve", early, nameless, course)
    placed = _entry(inbound, "bob", early, os.geteuid(), course)  # the grader's own copy
    (inbound / "README").write_text("a stray file")
    (inbound / "junk").mkdir()

    done = grade(course, tmp_path / "exchange", tmp_path / "work")
    assert done.returncode == 0, done.stderr[-3000:]
    table = rows(done.stdout)
    assert set(table) == {"nobody", "bob"}, done.stdout  # eve's nameless entry is refused
    db_url = f"sqlite:///{tmp_path / 'work' / 'gradebook.db'}"
    scores = {r.student: r.score for r in ledger_rows(db_url)}
    assert scores == {"nobody": 4.0, "bob": 4.0}  # the forgery (a blank notebook) did not win
    err = done.stderr
    assert f"{forged}: named for nobody but owned by user 'daemon'; refused" in err
    assert f"{nameless_entry}: named for eve but owned by uid {nameless}, which has no user " \
           "name here; refused" in err
    assert f"{inbound / 'README'}: a file in nbgrader's exchange inbound folder" in err
    assert f"'{(inbound / 'junk').name}' is not an nbgrader exchange submission folder" in err
    # nobody's folder says 28 February, but it arrived (was last changed) now: late
    assert "late by" in table["nobody"] and "late" not in table["bob"].split("graded", 1)[1]
    assert f"  {CHANGE_TIME}: nobody/{ASSIGNMENT}" in done.stdout
    assert f"  {NAME_TIME}: bob/{ASSIGNMENT}" in done.stdout
    assert mine.exists() and placed.exists()  # read, never moved
