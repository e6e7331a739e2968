"""Start JupyterLab on course/ from the kit's environment (what `make lab` runs).

Students get the release notebooks with ipywidgets and nbgrader's lab extensions (the
notebook toolbar's "Validate" button) from the kit's own virtualenv. The server listens on
127.0.0.1 with a fresh token; the URL to open is printed once the server answers.

    make lab                  # port 8888
    make lab PORT=8890        # another port (or: PORT=8890 python tools/lab.py)
    python tools/lab.py --no-browser
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
DEFAULT_PORT = 8888
READY_TIMEOUT = 120.0


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (bound the way Jupyter's server binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def lab_environment() -> dict[str, str]:
    """The environment for the server and its kernels: the kit's venv, inline plots."""
    env = dict(os.environ)
    # The Makefile sets MPLBACKEND=Agg for headless runs; in a kernel that would replace
    # ipykernel's inline backend and no plot would ever show in the notebook.
    env.pop("MPLBACKEND", None)
    # Prefer the venv's kernel spec and extensions over anything in the user's ~/.local.
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def lab_command(root: Path, host: str, port: int, token: str, open_browser: bool) -> list[str]:
    """The `jupyter lab` command line serving root on host:port with the given token."""
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI images often run as root
    return command


def wait_until_ready(server: subprocess.Popen, url: str, token: str, timeout: float) -> bool:
    """Poll the server's status API until it answers; False if it exits or times out."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        f"{url}api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    return False


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Start JupyterLab on course/ for students.")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_PORT),
        help=f"port to listen on (default: $PORT or {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", default=bool(os.environ.get("LAB_NO_BROWSER")),
        help="do not open a web browser (also: LAB_NO_BROWSER=1)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not COURSE.is_dir():
        print(f"make lab: {COURSE} is missing; run `make release` first.", file=sys.stderr)
        return 2
    if not port_is_free(args.ip, args.port):
        print(
            f"make lab: port {args.port} on {args.ip} is already in use (another JupyterLab?).\n"
            f"Stop that server, or choose another port: `make lab PORT={args.port + 2}` "
            f"(or `PORT={args.port + 2} python tools/lab.py`).",
            file=sys.stderr,
        )
        return 2

    token = secrets.token_hex(24)
    url = f"http://{args.ip}:{args.port}/"
    command = lab_command(COURSE, args.ip, args.port, token, open_browser=not args.no_browser)
    print(f"Starting JupyterLab on {COURSE.relative_to(ROOT)}/ ...", flush=True)
    server = subprocess.Popen(command, cwd=COURSE, env=lab_environment())
    # Ctrl-C reaches the whole process group: JupyterLab asks to confirm and shuts down
    # its kernels; this wrapper just waits for it. SIGTERM is passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())

    if wait_until_ready(server, url, token, READY_TIMEOUT):
        print(
            "\n"
            f"    JupyterLab is ready on course/: {url}lab?token={token}\n"
            "    (open that URL in a browser; press Ctrl-C twice here to stop)\n",
            flush=True,
        )
    elif server.poll() is None:
        print(f"make lab: JupyterLab did not answer on {url} within {READY_TIMEOUT:.0f} s; "
              "see its log above.", file=sys.stderr)
    code = server.wait()
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        print(f"make lab: JupyterLab exited with status {code}; see its log above.",
              file=sys.stderr)
    return code if code > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
