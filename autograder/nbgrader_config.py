"""nbgrader configuration for the course kit (the one place grading settings live).

The kit loads this file (`autograder.course.load_config`); nbgrader run from the course root
loads it through the root's `nbgrader_config.py`. Paths are relative to the repository root,
which both set as `CourseDirectory.root`. Masters live in `solutions/`, the student
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


# Student code gets a bounded time per cell; a looping cell is interrupted, not waited on.
# The kit's grader honours this too (at most Grader.wall_clock); `autograder demo` sets its own.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# Restore deleted grade cells instead of losing their points silently.
c.OverwriteCells.add_missing_cells = True

# Lines that are harmless on stderr and must not zero a passing test cell in plain
# `nbgrader autograde` (nbgrader leaves IgnorePattern off unless enabled). The kit's grader
# needs none of it: its test cells' outputs are replaced by the verifier's verdicts.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"^(Matplotlib is building the font cache|.*DeprecationWarning).*"

# The kit's grader (`autograder grade`, `ci`, `demo`): every option with its help text is in
# `autograder grade --help-all`; the command line overrides these (--memory, --Grader.<name>=...).
c.Grader.workers = 0  # one per CPU core
c.Grader.wall_clock = 120  # seconds per notebook; a cell gets at most Execute.timeout of it
c.Grader.memory_mb = 1024
c.Grader.cpu_seconds = 0  # as many as wall_clock
c.Grader.output_bytes = 200_000
c.Grader.scratch_mb = 256
c.Grader.require_sandbox = False
# The grading steps and their order: c.Grader.sanitize_steps and c.Grader.score_steps (lists of
# import names; the defaults are in autograder/grading/options.py). Skip one with, e.g.,
# c.LimitOutput.enabled = False.

# Release: strip solutions between the markers and hidden tests between these markers.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# nbgrader's own feedback (`nbgrader generate_feedback`, formgrader's "Generate Feedback"):
# the same rule as the kit's pages (autograder/exports/feedback_steps.py). The grading kernel
# saw the hidden tests, so the student's cells lose their outputs, each test cell shows only
# its points and verdict, and the hidden tests' source is removed. GetGrades first, so
# manual scores and comments from formgrader are on the page.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.exports.feedback_steps.ShowVerdictsOnly",
    "autograder.exports.feedback_steps.ClearHiddenTestsInTestCells",
]
