"""Regenerate the student release (`course/NN-*`) from the masters (`solutions/NN-*`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.course import REPO_ROOT, existing_assignments, load_config


def release(assignments: list[str] | None = None, root: Path = REPO_ROOT) -> list[Path]:
    """Run nbgrader's generate_assignment for each assignment; return the release folders.

    Solutions and hidden tests are stripped by nbgrader; outputs are cleared. The previous
    release of each assignment is replaced, so a deleted master notebook disappears too.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    assignments = assignments or existing_assignments(root)
    (root / "work").mkdir(exist_ok=True)
    config = load_config(root)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    made = []
    for assignment in assignments:
        target = root / "course" / assignment
        if target.exists():
            shutil.rmtree(target)
        result = api.generate_assignment(assignment, force=True)
        if not result["success"]:
            raise RuntimeError(
                f"nbgrader could not release {assignment} from solutions/{assignment}/:\n"
                f"{result.get('log') or result.get('error')}"
            )
        made.append(target)
    return made
