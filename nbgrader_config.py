"""nbgrader's configuration when it runs from the course root (formgrader, `nbgrader ...`).

The settings live in one place, `autograder/nbgrader_config.py`, which the kit loads too; this
file loads it and points nbgrader at the same course root and the same gradebook the kit uses
(`work/gradebook.db`, git-ignored), so formgrader shows what `autograder grade` recorded.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets' config loader)
here = os.path.dirname(os.path.abspath(__file__))
load_subconfig(os.path.join(here, "autograder", "nbgrader_config.py"))  # noqa: F821

c.CourseDirectory.root = here
if "db_url" not in c.CourseDirectory:  # the kit's rule: autograder.course.load_config
    os.makedirs(os.path.join(here, "work"), exist_ok=True)
    c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "work", "gradebook.db")
