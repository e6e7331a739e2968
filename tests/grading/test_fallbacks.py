"""The fallbacks keep the same promises or refuse. As root without bwrap (forced with
--Grader.bwrap=False), on a first run: the work folder is private before the gradebook exists,
the masters, exports and .git folder of the course are not readable by the kernel uid, the
quota counts and the cleanup removes what that uid writes in every folder it may write to (a
scan finds them: /run/lock here, which no list named), and its IPC objects go with it. Where a
promise cannot be kept (kernels keeping the grader's uid), --require-sandbox refuses and says
which. Through the real command line, with a pool of 2."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder.gradebook.batch import BatchOptions, make_sandbox
from autograder.gradebook.record import ledger_rows
from autograder.grading.outcome import DISK_QUOTA
from autograder.sandbox import policy
from autograder.sandbox.policy import KERNEL_UID_BASE, SandboxUnavailable
from autograder.sandbox.scratch_quota import writable_folders
from tests.grading.fixture_course import (
    ASSIGNMENT,
    FULL_MARKS,
    NOTEBOOK,
    SQUARE,
    fill,
    make_course,
    write_submission,
)

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading-without-bwrap")]

needs_root = pytest.mark.skipif(os.geteuid() != 0 or not policy.SETPRIV,
                                reason="a kernel uid of its own needs root and setpriv")


def _probe(secrets: list[Path], tag: str) -> str:
    return f"""
import os
for path in {[str(p) for p in secrets]!r}:
    try:
        open(path, "rb").read(10)
        print("READ", path)
    except OSError as exc:
        print("DENIED", path, type(exc).__name__)
for top in {[str(p) for p in writable_folders()]!r}:
    try:
        with open(os.path.join(top, "left-x{tag}"), "w") as f:
            f.write("left behind")
        print("PLANTED", top)
    except OSError as exc:
        print("REFUSED", top, type(exc).__name__)
{SQUARE}"""


def _hoard(tag: str) -> str:
    """Write 4 MB files in /run/lock (not /tmp, /var/tmp or /dev/shm) until stopped."""
    return f"""
import sys, time
print("HOARDING"); sys.stdout.flush(); time.sleep(0.5)
block = b"x" * (4 * 2**20 - 1)
for i in range(100):
    with open(f"/run/lock/hoard-x{tag}-{{i}}", "wb") as f:
        f.write(block)
print("WROTE-ALL")
{SQUARE}"""


def _printed(work: Path, student: str) -> str:
    nb = json.loads((work / "autograded" / student / ASSIGNMENT /
                     f"{NOTEBOOK}.ipynb").read_text())
    return "".join("".join(o.get("text", "")) + o.get("evalue", "") for c in nb["cells"]
                   for o in c.get("outputs", []))


@needs_root
@pytest.mark.skipif(not Path("/run/lock").is_dir() or not os.stat("/run/lock").st_mode & 2,
                    reason="no world-writable /run/lock on this machine")
def test_root_without_bwrap_keeps_every_promise_from_the_first_run(tmp_path):
    tag = uuid.uuid4().hex[:8]
    root = Path(f"/var/tmp/fallback-{tag}")  # a course other uids could otherwise reach
    root.mkdir(mode=0o755)
    try:
        make_course(root)
        shutil.rmtree(root / "work")  # a first run: the work folder does not exist yet
        (root / ".git").mkdir()
        (root / ".git" / "config").write_text("[remote] url = instructor")
        (root / "output").mkdir()
        (root / "output" / "grades.csv").write_text("ada,14")
        work = root / "work"
        secrets = [root / ".git" / "config", root / "output" / "grades.csv",
                   root / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                   work / "gradebook.db",
                   work / "submitted" / "perfect" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"]
        subs = tmp_path / "subs"
        write_submission(subs, "probe", fill(root, square=_probe(secrets, tag)))
        write_submission(subs, "hoarder", fill(root, square=_hoard(tag)))
        write_submission(subs, "perfect", fill(root))
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                   f"{os.environ['PATH']}")
        done = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", str(subs), "--root", str(root),
             "--workers", "2", "--quiet", "--Grader.bwrap=False",
             "--Grader.scratch_mb=16", "--Grader.file_size_mb=4"],
            capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        printed = _printed(work, "probe")
        for path in secrets:
            assert f"DENIED {path} PermissionError" in printed, printed
        assert "PLANTED /run/lock" in printed  # it could write there: the scan found it
        assert stat.S_IMODE(os.stat(work).st_mode) == 0o700
        rows = {r.student: r for r in ledger_rows(f"sqlite:///{work / 'gradebook.db'}")}
        assert rows["probe"].score == FULL_MARKS and rows["perfect"].score == FULL_MARKS
        outcome = rows["hoarder"].notebooks[NOTEBOOK].outcome
        assert outcome.kind is DISK_QUOTA, outcome  # /run/lock counts against the quota
        assert "WROTE-ALL" not in _printed(work, "hoarder")
        left = [str(p) for top in writable_folders() for pattern in ("left-*", "hoard-*")
                for p in top.glob(f"{pattern}{tag}*")]
        assert left == []  # nothing the kernel uids wrote survives, wherever they wrote it
        # this run's kernel uids (another test's kernels may be running beside it)
        uids = {int(uid) for row in rows.values() for nb in row.notebooks.values()
                for uid in re.findall(r"uid (\d+)", nb.isolation)}
        assert uids and all(uid >= KERNEL_UID_BASE for uid in uids)
        owned = [str(p) for top in writable_folders() for p in top.iterdir()
                 if p.lstat().st_uid in uids]
        assert owned == []
    finally:
        shutil.rmtree(root, ignore_errors=True)
        for top in writable_folders():
            for pattern in ("left-*", "hoard-*"):
                for path in top.glob(f"{pattern}{tag}*"):
                    path.unlink(missing_ok=True)


def test_a_fallback_that_cannot_keep_its_promises_is_refused_and_named(tmp_path,
                                                                       monkeypatch, capsys):
    monkeypatch.setattr(policy, "kernel_uid", lambda: None)  # as a grader that is not root
    options = BatchOptions(root=tmp_path, work=tmp_path / "work", use_bwrap=False,
                           require_sandbox=True)
    with pytest.raises(SandboxUnavailable) as refused:
        make_sandbox(options)
    message = str(refused.value)
    assert "kernels would run as the grader's own uid" in message
    assert "could read the masters, .git, the gradebook and other submissions" in message
    options.require_sandbox = False  # graded anyway: the warning says what is not kept
    make_sandbox(options)
    assert "NOT KEPT: kernels would run as the grader's own uid" in capsys.readouterr().err


def test_ci_requires_the_sandboxs_promises_by_default(tmp_path, monkeypatch):
    from traitlets.config import Config

    from autograder.ci.command import CIOptions, run_ci

    seen = {}

    def refuse(source, options):
        seen["require"] = options.require_sandbox
        raise SandboxUnavailable("refused")

    monkeypatch.setattr("autograder.ci.command.grade_batch", refuse)
    checkout = tmp_path / "ada"
    checkout.mkdir()
    (checkout / f"{NOTEBOOK}.ipynb").write_text("{}")
    root = make_course(tmp_path / "course")
    outputs = {k: tmp_path / "out" / f"{k}.x" for k in ("classroom", "gradescope", "junit")}
    assert run_ci(checkout, CIOptions(root=root, outputs=outputs, student="ada")) == 2
    assert seen["require"] is True
    overrides = Config()
    overrides.Grader.require_sandbox = False
    run_ci(checkout, CIOptions(root=root, outputs=outputs, student="ada", overrides=overrides))
    assert seen["require"] is False

