"""Where the course lives on disk and how nbgrader is configured for it."""

from __future__ import annotations

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
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.CourseDirectory.root = str(root)
    work = Path(work) if work is not None else root / "work"
    if "db_url" not in config.CourseDirectory:
        config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    return config
