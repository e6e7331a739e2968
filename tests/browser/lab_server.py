"""A throwaway JupyterLab for the browser tests: loopback only, token auth, temporary state.

The workspace is a temporary copy of the course and the masters, so autosave and the
students' edits never touch the repository. Jupyter's config, data and runtime folders and
JupyterLab's settings and workspaces are temporary too; the lab extensions (ipywidgets,
nbgrader) and the kernel spec still come from the venv's sys.prefix, which Jupyter always
searches.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.waits import waiting_for

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 90.0

# JupyterLab settings a fresh student profile would otherwise stop at (news prompts) and
# that make the notebook deterministic to inspect (every cell attached to the page).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class LabServer:
    """A running JupyterLab: its base URL, token, workspace folder and process."""

    url: str
    token: str
    workspace: Path
    process: subprocess.Popen
    log_path: Path

    def lab_url(self) -> str:
        return f"{self.url}lab?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (it shuts its kernels down); kill it if it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_workspace(workspace: Path) -> None:
    """Copy every assignment folder of course/ and solutions/ into workspace."""
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for top in ("course", "solutions"):
        for folder in sorted((ROOT / top).glob("[0-9][0-9]-*")):
            if folder.is_dir():
                shutil.copytree(folder, workspace / top / folder.name, ignore=skip)


def _write_user_settings(settings_dir: Path) -> None:
    for name, values in USER_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def start_lab(state: Path, workspace: Path) -> LabServer:
    """Start JupyterLab serving workspace; everything it writes goes under state."""
    dirs = {name: state / name for name in ("config", "data", "runtime", "settings", "lab-ws")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    _write_user_settings(dirs["settings"])
    port = free_loopback_port()
    token = secrets.token_hex(16)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # kernels must use the inline backend, as a student's do
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_PREFER_ENV_PATH="1",
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["lab-ws"]),
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={workspace}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.terminals_enabled=False",
        # window.jupyterapp, so the tests can use JupyterLab's own commands.
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = state / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=workspace, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = LabServer(f"http://127.0.0.1:{port}/", token, workspace, process, log_path)
    request = urllib.request.Request(
        f"{server.url}api/status", headers={"Authorization": f"token {token}"}
    )
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        with waiting_for(f"JupyterLab to answer on {server.url} (log: {log_path})"):
            return _wait_ready(server, request, deadline)
    except BaseException:  # a test timed out or was interrupted here too: stop it all the same
        server.stop()
        raise


def _wait_ready(server: LabServer, request: urllib.request.Request, deadline: float) -> LabServer:
    process = server.process
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited at start-up:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer within {READY_TIMEOUT:.0f} s:\n"
                       f"{server.log_tail()}")
