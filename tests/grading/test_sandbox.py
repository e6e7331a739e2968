"""The sandbox's kernel command, and what happens without bwrap."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.gradebook import batch
from autograder.gradebook.batch import BatchOptions, make_sandbox
from autograder.sandbox.policy import PRLIMIT, Limits, Sandbox, SandboxUnavailable, bwrap_works


def test_require_sandbox_refuses_to_run_without_bwrap(tmp_path):
    options = BatchOptions(root=tmp_path, work=tmp_path / "work", use_bwrap=False,
                           require_sandbox=True)
    with pytest.raises(SandboxUnavailable, match="--require-sandbox"):
        make_sandbox(options)


def test_without_bwrap_the_grader_says_so_once_and_keeps_the_limits(tmp_path, capsys):
    sandbox = make_sandbox(BatchOptions(root=tmp_path, work=tmp_path / "w", use_bwrap=False))
    assert capsys.readouterr().err.count("bwrap is not available") == 1
    argv = sandbox.kernel_argv(tmp_path, tmp_path / "scratch")
    assert "--unshare-net" not in argv and not any(a.endswith("/bwrap") for a in argv)
    if PRLIMIT:
        assert f"--as={1024 * 1024 * 1024}" in argv and "--cpu=120" in argv


@pytest.mark.skipif(not bwrap_works(), reason="bwrap cannot create namespaces here")
def test_bwrap_kernel_has_no_network_and_hides_the_masters(tmp_path):
    hidden = tmp_path / "solutions"
    hidden.mkdir()
    sandbox = Sandbox(hidden=[hidden], limits=Limits(memory_mb=256))
    argv = sandbox.kernel_argv(tmp_path / "rt", tmp_path / "rt" / "scratch")
    assert "--unshare-net" in argv and "--die-with-parent" in argv
    assert ["--cap-drop", "ALL"] == argv[argv.index("--cap-drop"):argv.index("--cap-drop") + 2]
    assert "--unshare-pid" not in argv
    pairs = list(zip(argv, argv[1:]))
    assert ("--tmpfs", str(hidden)) in pairs and ("--remount-ro", str(hidden)) in pairs
    size = str(256 * 1024 * 1024)  # the default scratch quota, on /tmp and /dev/shm
    assert argv[argv.index("/tmp") - 3:argv.index("/tmp") + 1] == ["--size", size, "--tmpfs",
                                                                   "/tmp"]
    assert "--clearenv" in argv and ["--ro-bind", "/", "/"] == argv[
        argv.index("--ro-bind"):argv.index("--ro-bind") + 3]


def test_bwrap_missing_is_detected(monkeypatch):
    monkeypatch.setattr(batch, "Sandbox", Sandbox)
    monkeypatch.setattr("autograder.sandbox.policy.BWRAP", None)
    monkeypatch.setattr("autograder.sandbox.policy._BWRAP_WORKS", None)
    assert Sandbox(hidden=[Path("/nonexistent")]).isolated is False
