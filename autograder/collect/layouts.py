"""The submission layouts `autograder grade` accepts, and the refusal that names them.

Four layouts are accepted:

1. nbgrader's: `SUBMISSIONS/[submitted/]<student>/<assignment>/<notebook>.ipynb`;
2. one zip file per student: `SUBMISSIONS/<student>.zip` (notebooks anywhere inside, placed by
   their `<assignment>/` folder or, failing that, by their name);
3. one repository clone per student (GitHub Classroom): `SUBMISSIONS/<student>/.git` with the
   notebooks under `<assignment>/` or `course/<assignment>/`;
4. nbgrader's exchange (students pressed "Submit" on JupyterHub), see `autograder.collect.exchange`.

Anything else is refused with `LayoutError`, whose message names these layouts.
"""

from __future__ import annotations

import re
from pathlib import Path

LAYOUTS = (
    "nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb folders",
    "a folder of per-student zip files (<student>.zip)",
    "a folder of per-student repository clones (<student>/.git, notebooks under <assignment>/)",
    "nbgrader's exchange inbound/<student>+<assignment>+<timestamp>[+<random>]/ folders (the "
    "course's inbound/ folder, the course folder or the exchange root)",
)
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]*$")


class LayoutError(ValueError):
    """The submissions folder is in none of the layouts `grade` accepts."""


def student_id(name: str, entry: Path) -> str:
    if not STUDENT_ID.match(name):
        raise LayoutError(f"{entry}: '{name}' is not a usable student id (letters, digits, "
                          "'_.@+-'); rename the file or folder and grade again.")
    return name
