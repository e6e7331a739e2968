"""The pids cgroup a kernel runs in: found in cgroup v1 or a delegated v2 subtree, joined before
the command runs, binding a fork storm, emptied and removed afterwards."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from autograder.sandbox import pids_cgroup
from autograder.sandbox.pids_cgroup import PidsCgroup, pids_base

STORM = ("import os, time\n"
         "n = 0\n"
         "try:\n"
         "    for _ in range(200):\n"
         "        if os.fork() == 0:\n"
         "            os.close(1)\n"  # the sleeper must not hold the pipe read here
         "            time.sleep(60)\n"
         "            os._exit(0)\n"
         "        n += 1\n"
         "except OSError as exc:\n"
         "    print(type(exc).__name__, n)\n")


@pytest.mark.skipif(pids_base() is None, reason="no writable pids cgroup here")
def test_a_joined_command_is_bound_by_the_group_and_removal_kills_what_it_left():
    group = PidsCgroup.make(8)
    assert group is not None
    try:
        argv = group.join_argv(["python3", "-c", STORM])
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             timeout=60).stdout
        assert out.startswith("BlockingIOError ") and int(out.split()[1]) < 8, out
        assert group.refused() >= 1
        assert group.pids()  # its sleepers are still in the group
    finally:
        assert group.remove()
    assert not group.path.exists()


@pytest.fixture
def fake_v2(tmp_path, monkeypatch):
    """A cgroup v2 hierarchy (as files) where this process sits in a delegated subtree."""
    mount = tmp_path / "unified"
    own = mount / "user.slice" / "grader.service"
    own.mkdir(parents=True)
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(pids_cgroup, "_mounts",
                        lambda: [(str(mount), "/", "cgroup2", "rw,nsdelegate")])
    monkeypatch.setattr(pids_cgroup, "_own_paths",
                        lambda: {"": "/user.slice/grader.service"})
    pids_cgroup.pids_base.cache_clear()  # probe the fake hierarchy, not this machine's
    yield own
    pids_cgroup.pids_base.cache_clear()


def test_a_delegated_v2_subtree_is_found_and_its_pids_controller_enabled(fake_v2):
    assert pids_cgroup.candidate_bases() == [fake_v2]
    assert pids_base() == fake_v2
    assert (fake_v2 / "cgroup.subtree_control").read_text() == "+pids"
    group = PidsCgroup.make(64)
    assert group is not None and group.path.parent == fake_v2
    assert (group.path / "pids.max").read_text() == "64"


def test_a_v2_subtree_without_the_pids_controller_is_no_base(fake_v2):
    (fake_v2 / "cgroup.controllers").write_text("cpu memory\n")
    assert pids_base() is None
    assert PidsCgroup.make(64) is None


def test_a_mount_root_is_taken_off_the_process_path():
    assert pids_cgroup._under("/sys/fs/cgroup/pids", "/docker/abc", "/docker/abc/x") == \
        Path("/sys/fs/cgroup/pids/x")
    assert pids_cgroup._under("/sys/fs/cgroup/pids", "/", "/x") == Path("/sys/fs/cgroup/pids/x")


@pytest.mark.skipif(pids_base() is None, reason="no writable pids cgroup here")
def test_a_group_whose_grader_is_gone_is_removed_by_the_next_grader():
    dead = 2**22 + 12345  # above the largest pid Linux hands out: no process has it
    path = pids_base() / f"autograder-{dead}-{pids_cgroup._pid_namespace()}-0"
    elsewhere = pids_base() / f"autograder-{dead}-1-0"  # another PID namespace's: kept
    path.mkdir()
    elsewhere.mkdir()
    live = PidsCgroup.make(4)
    try:
        assert pids_cgroup.remove_orphaned(pids_base()) == 1
        assert not path.exists() and live.path.exists()  # this process's own group stays
        assert elsewhere.exists()
    finally:
        live.remove()
        for leftover in (path, elsewhere):
            if leftover.exists():
                leftover.rmdir()
