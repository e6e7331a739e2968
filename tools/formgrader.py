"""Start JupyterLab with nbgrader's formgrader on the course (what `make formgrader` runs).

The server runs from the course root, so nbgrader finds the root `nbgrader_config.py`, which
loads the kit's one configuration (`autograder/nbgrader_config.py`) and points `db_url` at the
gradebook `autograder grade` writes (`work/gradebook.db`). Formgrader then lists every graded
submission (a named error too: the kit writes the release as its autograded notebook), and the
scores and comments entered there reach `autograder export` and `autograder feedback`.

    make formgrader                 # port 8889, the course in this checkout
    make formgrader PORT=8891 ROOT=/path/to/another/course
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab import lab_command, lab_environment, port_is_free, wait_until_ready  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 120.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="JupyterLab with formgrader on the course.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("ROOT") or ROOT))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8889))
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--no-browser", action="store_true",
                        default=bool(os.environ.get("LAB_NO_BROWSER")))
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "nbgrader_config.py").is_file():
        print(f"make formgrader: {root} has no nbgrader_config.py; copy the kit's one there "
              "(it loads autograder/nbgrader_config.py)", file=sys.stderr)
        return 2
    if not port_is_free(args.ip, args.port):
        print(f"make formgrader: port {args.port} is in use; try `make formgrader "
              f"PORT={args.port + 2}`", file=sys.stderr)
        return 2
    (root / "work").mkdir(exist_ok=True)
    token = secrets.token_hex(24)
    url = f"http://{args.ip}:{args.port}/"
    command = lab_command(root, args.ip, args.port, token, open_browser=not args.no_browser)
    server = subprocess.Popen(command, cwd=root, env=lab_environment())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    if wait_until_ready(server, url, token, READY_TIMEOUT):
        print(f"\n    formgrader is ready: {url}formgrader?token={token}\n"
              f"    (JupyterLab: {url}lab?token={token}; Ctrl-C twice here to stop)\n",
              flush=True)
    code = server.wait()
    return code if code > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
