"""The sandbox's kernel command, and what happens without bwrap."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.gradebook import batch
from autograder.gradebook.batch import BatchOptions, make_sandbox
from autograder.sandbox.policy import PRLIMIT, Limits, Sandbox, SandboxUnavailable, bwrap_works


def test_require_sandbox_refuses_without_bwrap_unless_the_fallback_keeps_its_promises(
        tmp_path, monkeypatch):
    options = BatchOptions(root=tmp_path, work=tmp_path / "work", use_bwrap=False,
                           require_sandbox=True)
    if Sandbox(use_bwrap=False).kernel_user() is not None:  # root: a kernel uid of its own
        assert not make_sandbox(options).isolated  # kept: graded (tests/grading/test_fallbacks)
        monkeypatch.setattr("autograder.sandbox.policy.kernel_uid", lambda: None)
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
def test_bwrap_kernel_sees_an_allow_list_not_the_host(tmp_path):
    sandbox = Sandbox(hidden=[tmp_path / "solutions"], limits=Limits(memory_mb=256))
    argv = sandbox.kernel_argv(tmp_path / "rt", tmp_path / "rt" / "scratch")
    assert argv[:2] == ["/usr/bin/env", "-i"]  # bwrap, PID 1 inside, has no grader variable
    assert "--unshare-net" in argv and "--die-with-parent" in argv and "--unshare-pid" in argv
    assert ["--cap-drop", "ALL"] == argv[argv.index("--cap-drop"):argv.index("--cap-drop") + 2]
    pairs = list(zip(argv, argv[1:], argv[2:]))
    assert ("--ro-bind", "/", "/") not in pairs  # no view of the whole host
    binds = {a for flag, a, b in pairs if flag in ("--ro-bind", "--bind", "--ro-bind-try")}
    allowed = [Path("/usr"), Path("/etc"), *sandbox.readonly_binds, tmp_path / "rt"]
    assert all(any(Path(b).is_relative_to(a) for a in allowed) for b in binds), binds
    import coursekit
    assert str(Path(coursekit.__file__).resolve().parent) in binds  # exactly that folder
    size = str(256 * 1024 * 1024)  # the default scratch quota, on /tmp and /dev/shm
    assert argv[argv.index("/tmp") - 5:argv.index("/tmp") + 1] == [
        "--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
    assert "--clearenv" in argv


def test_bwrap_missing_is_detected(monkeypatch):
    monkeypatch.setattr(batch, "Sandbox", Sandbox)
    monkeypatch.setattr("autograder.sandbox.policy.BWRAP", None)
    monkeypatch.setattr("autograder.sandbox.policy._BWRAP_WORKS", None)
    assert Sandbox(hidden=[Path("/nonexistent")]).isolated is False


@pytest.mark.skipif(not bwrap_works(), reason="bwrap cannot create namespaces here")
def test_a_checkout_under_tmp_is_bound_after_the_scratch_tmpfs(tmp_path):
    """CI may clone under /tmp: a tmpfs mounted on /tmp after the venv's and coursekit's
    binds would hide them, and every kernel would die at start."""
    venv = Path("/tmp/some-checkout/.venv")
    sandbox = Sandbox(limits=Limits(memory_mb=256), readonly_binds=[venv])
    argv = sandbox.kernel_argv(tmp_path / "rt", tmp_path / "rt" / "scratch")
    tmpfs = next(i for i, (a, b) in enumerate(zip(argv, argv[1:])) if (a, b) == ("--tmpfs",
                                                                                "/tmp"))
    bind = next(i for i, (a, b) in enumerate(zip(argv, argv[1:])) if (a, b) == ("--ro-bind",
                                                                               str(venv)))
    assert tmpfs < bind
