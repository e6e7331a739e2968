"""nbgrader configuration for the course kit (the one place grading settings live).

Paths are relative to the repository root, which the `autograder` package sets as
`CourseDirectory.root` when it loads this file. Masters live in `solutions/`, the student
release in `course/`; everything nbgrader writes while grading goes under `work/`
(git-ignored).
"""

c = get_config()  # noqa: F821  (injected by traitlets' config loader)

c.CourseDirectory.course_id = "autodiff"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
c.CourseDirectory.submitted_directory = "work/submitted"
c.CourseDirectory.autograded_directory = "work/autograded"
c.CourseDirectory.feedback_directory = "work/feedback"
# The gradebook: work/gradebook.db under the root unless db_url is set here
# (any SQLAlchemy URL nbgrader accepts). See autograder.course.load_config.


# Student code gets a bounded time per cell; a looping cell is stopped, not waited on.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Restore deleted grade cells instead of losing their points silently.
c.OverwriteCells.add_missing_cells = True

# Lines that are harmless on stderr and must not zero a passing test cell.
c.IgnorePattern.pattern = r"^(Matplotlib is building the font cache|.*DeprecationWarning).*"

# Release: strip solutions between the markers and hidden tests between these markers.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
