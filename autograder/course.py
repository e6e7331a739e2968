"""Where the course lives on disk and how nbgrader is configured for it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"

#: Assignment ids in course order; each is a folder in solutions/ and course/.
ASSIGNMENTS = (
    "01-derivatives",
    "02-chain-rule",
    "03-forward-mode",
    "04-reverse-mode",
    "05-mlp-backprop",
)


def existing_assignments(root: Path = REPO_ROOT) -> list[str]:
    """The assignments whose master notebooks exist in `solutions/`, in course order."""
    return [a for a in ASSIGNMENTS if any((root / "solutions" / a).glob("*.ipynb"))]


def load_config(root: Path = REPO_ROOT, work: Path | None = None) -> Config:
    """nbgrader's Config for this course: `autograder/nbgrader_config.py` with absolute paths.

    `work` (default `<root>/work`) holds the gradebook unless the config file sets `db_url`.
    """
    ensure_alembic_on_path()
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.CourseDirectory.root = str(root)
    work = Path(work) if work is not None else root / "work"
    if "db_url" not in config.CourseDirectory:
        config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    return config


def ensure_alembic_on_path() -> None:
    """nbgrader shells out to `alembic`; make the running interpreter's bin/ findable."""
    bin_dir = str(Path(sys.executable).parent.absolute())
    found = shutil.which("alembic")
    if found is None or not Path(found).is_absolute():
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
