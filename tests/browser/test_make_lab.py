"""`make lab` (tools/lab.py): starts JupyterLab on course/ and says where; refuses a taken port."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser.lab_server import ROOT, free_loopback_port

LAB = ROOT / "tools" / "lab.py"
# Runs next to the browser session (same worker), so only one extra server at a time.
pytestmark = pytest.mark.xdist_group("browser")


def lab_env(tmp_path) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", LAB_NO_BROWSER="1")
    for name in ("CONFIG", "DATA", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(tmp_path / name.lower())
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "workspaces")
    env.pop("PORT", None)
    return env


def test_make_lab_keeps_the_kernels_inline_backend(monkeypatch):
    """`make` exports MPLBACKEND=Agg; a kernel inheriting it would show no plot at all."""
    spec = importlib.util.spec_from_file_location("lab_tool", LAB)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    env = tool.lab_environment()
    assert "MPLBACKEND" not in env
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)


def test_make_lab_refuses_a_taken_port_and_names_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(LAB), "--port", str(port)],
            env=lab_env(tmp_path), capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2, result
    assert f"port {port}" in result.stderr and "make lab PORT=" in result.stderr, result.stderr


def test_make_lab_serves_course_with_inline_plots_and_prints_the_url(tmp_path):
    port = free_loopback_port()
    env = lab_env(tmp_path) | {"PORT": str(port)}
    lab = subprocess.Popen(
        [sys.executable, str(LAB)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and lab.poll() is None:
            line = lab.stdout.readline()
            if "JupyterLab is ready" in line:
                url = line.split(": ", 1)[1].strip()
        assert url and url.startswith(f"http://127.0.0.1:{port}/lab?token="), url
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200
        token = url.split("token=", 1)[1]
        contents = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(contents, timeout=30) as listing:
            names = {item["name"] for item in json.load(listing)["content"]}
        assert "coursekit" in names, f"the server's root is not course/: {names}"
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait(timeout=10)
