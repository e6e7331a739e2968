"""nbgrader's configuration when it runs from the course root (formgrader, `nbgrader ...`).

The settings live in one place, `autograder/nbgrader_config.py`, which the kit loads too; this
file loads it and points nbgrader at the same course root and the same gradebook the kit uses
(`work/gradebook.db`, git-ignored), so formgrader shows what `autograder grade` recorded.
A course kept in another folder (a copy of this repository, or one holding only `solutions/`
and `course/`) takes this file along: without a local `autograder/` it loads the installed
kit's configuration.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets' config loader)
here = os.path.dirname(os.path.abspath(__file__))
kit_config = os.path.join(here, "autograder", "nbgrader_config.py")
if not os.path.isfile(kit_config):
    import autograder.course

    kit_config = str(autograder.course.CONFIG_FILE)
load_subconfig(kit_config)  # noqa: F821

c.CourseDirectory.root = here
try:  # course.toml's late policy (the kit's LateSubmissionPlugin), as the kit sets it
    from autograder.course import apply_course_settings

    apply_course_settings(c, here)
except ImportError:  # nbgrader run outside the kit's environment: no late penalties
    pass
if "db_url" not in c.CourseDirectory:  # the kit's rule: autograder.course.load_config
    os.makedirs(os.path.join(here, "work"), exist_ok=True)
    c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "work", "gradebook.db")
