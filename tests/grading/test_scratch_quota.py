"""The disk quota of a kernel without bwrap: what it wrote is measured without following links,
the watch stops it past the quota, and what its uid left in world-writable folders goes."""

from __future__ import annotations

import os
import time

import pytest

from autograder.sandbox import scratch_quota
from autograder.sandbox.scratch_quota import (
    QuotaWatch,
    folder_bytes,
    held_open_bytes,
    remove_owned,
)

MB = 2**20


def _write(path, size):
    path.write_bytes(b"x" * size)


def test_a_folder_is_measured_without_following_links(tmp_path):
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    _write(outside / "big", 8 * MB)
    _write(scratch / "small", MB)
    (scratch / "link").symlink_to(outside)
    (scratch / "file-link").symlink_to(outside / "big")
    assert MB <= folder_bytes(scratch) < 2 * MB


def test_a_deleted_file_held_open_still_counts(tmp_path):
    path = tmp_path / "held"
    _write(path, 2 * MB)
    with open(path, "rb"):
        path.unlink()
        assert held_open_bytes([os.getpid()]) >= 2 * MB


def test_the_watch_stops_the_kernel_once_past_the_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(scratch_quota, "PERIOD", 0.01)
    stopped = []
    watch = QuotaWatch(tmp_path, None, 4 * MB, lambda: [], lambda: stopped.append(True))
    try:
        _write(tmp_path / "a", 3 * MB)
        time.sleep(0.1)
        assert not watch.exceeded
        _write(tmp_path / "b", 3 * MB)
        deadline = time.monotonic() + 5
        while not watch.exceeded and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watch.exceeded and stopped == [True]
    finally:
        watch.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another uid needs root")
def test_only_the_kernel_uids_entries_go_and_no_link_is_followed(tmp_path):
    uid = 1_650_000_000
    top, keep = tmp_path / "tmp", tmp_path / "keep"
    top.mkdir(mode=0o1777)
    os.chmod(top, 0o1777)
    keep.mkdir()
    _write(keep / "grader.txt", 10)
    shared = top / "shared"  # a world-writable folder of another uid, with the kernel's file in it
    shared.mkdir()
    os.chmod(shared, 0o1777)
    mine = [top / "file", top / "dir", top / "link", shared / "nested"]
    _write(mine[0], 10)
    mine[1].mkdir()
    (mine[1] / "inner-link").symlink_to(keep)
    mine[2].symlink_to(keep / "grader.txt")
    _write(mine[3], 10)
    for path in [*mine, mine[1] / "inner-link"]:
        os.chown(path, uid, uid, follow_symlinks=False)
    _write(top / "others", 10)
    assert remove_owned(uid, (top,)) == 4
    assert not any(os.path.lexists(p) for p in mine)
    assert (top / "others").exists() and shared.exists()
    assert (keep / "grader.txt").read_text() == "x" * 10
