"""Which teaching-only cells grading skips: the master's tags, never a name a later cell reads.

Small in-memory notebooks: a master, and a submission made from it (the sanitised one the
grader executes: its locked cells as the master has them).
"""

from __future__ import annotations

import copy

from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.grading.teaching_cells import (
    TEACHING_TAG,
    cell_names,
    cells_to_skip,
    misplaced_tags,
)

from .steps.cells import answer_cell, grade_cell, notebook, setup_cell


def teaching(source: str, grade_id: str):
    cell = setup_cell(source, grade_id=grade_id)
    cell.metadata["tags"] = [TEACHING_TAG]
    return cell


def master(*middle):
    """setup, the given cells, then an answer and its test."""
    return notebook(setup_cell("import numpy as np"), *middle, answer_cell(),
                    grade_cell("assert square(3) == 9"))


def submission(nb, answer: str | None = None):
    """The master as a student hands it in (answer cell filled in)."""
    sub = copy.deepcopy(nb)
    if answer is not None:
        next(c for c in sub.cells if c.metadata.nbgrader.get("solution")).source = answer
    return sub


def skipped(nb, sub=None) -> list[str]:
    return cells_to_skip(nb, sub if sub is not None else submission(nb)).skipped_ids


PLOT = "xs = np.linspace(0, 1, 5)\nprint(xs)"


def test_a_teaching_cell_nothing_reads_is_skipped_and_the_others_run():
    nb = master(teaching(PLOT, "plot"), setup_cell("y = 2", grade_id="other"))
    plan = cells_to_skip(nb, submission(nb))
    assert plan.skipped_ids == ["plot"] and plan.skip == {1}


def test_a_student_answer_reading_a_teaching_cells_name_keeps_it():
    nb = master(teaching(PLOT, "plot"))
    plan = cells_to_skip(nb, submission(nb, "def square(x):\n    return x * x + 0 * xs[0]"))
    assert plan.skipped_ids == []
    assert plan.run_anyway["plot"] == "cell 2 (square) reads `xs`, which it defines"


def test_a_name_read_inside_a_function_body_counts_and_a_parameter_of_that_name_does_not():
    nb = master(teaching(PLOT, "plot"))
    assert skipped(nb, submission(nb, "def square(x):\n    return len(xs) and x * x")) == []
    assert skipped(nb, submission(nb, "def square(xs):\n    return xs * xs")) == ["plot"]
    assert skipped(nb, submission(nb, "square = lambda x: [x * x for xs in [0]][0]")) == [
        "plot"]


def test_a_name_the_reader_binds_first_is_its_own():
    nb = master(teaching(PLOT, "plot"))
    own = "xs = [1.0]\ndef square(x):\n    return x * x * xs[0]"
    assert skipped(nb, submission(nb, own)) == ["plot"]
    late = "def square(x):\n    return x * x * xs[0]\nxs = [1.0]"
    assert skipped(nb, submission(nb, late)) == []  # square reads xs before the cell binds it


def test_a_hidden_test_of_the_master_reading_the_name_keeps_it():
    nb = notebook(setup_cell("import numpy as np"), teaching("DATA = [1.0, 2.0]", "data"),
                  answer_cell(),
                  grade_cell("### BEGIN HIDDEN TESTS\nassert square(DATA[1]) == 4\n"
                             "### END HIDDEN TESTS"))
    sub = submission(nb)
    sub.cells[-1].source = ""  # the release's copy of the test, hidden part removed
    plan = cells_to_skip(nb, sub)
    assert plan.skipped_ids == [] and "cell 3 (test_square) reads `DATA`" in plan.run_anyway[
        "data"]


def test_only_the_masters_tags_count():
    nb = master(teaching(PLOT, "plot"), setup_cell("z = 3", grade_id="other"))
    sub = submission(nb)
    sub.cells[1].metadata["tags"] = []  # the student removes the tag: still skipped
    sub.cells[2].metadata["tags"] = [TEACHING_TAG]  # and tags another cell: still run
    sub.cells[3].metadata["tags"] = [TEACHING_TAG]  # even an answer
    assert skipped(nb, sub) == ["plot"]


def test_a_teaching_cell_whose_source_differs_from_the_masters_runs():
    nb = master(teaching(PLOT, "plot"))
    sub = submission(nb)
    sub.cells[1].source = PLOT + "\nsquare_of = 1"
    plan = cells_to_skip(nb, sub)
    assert plan.skipped_ids == [] and "differs" in plan.run_anyway["plot"]


def test_a_grade_id_twice_in_the_submission_runs():
    nb = master(teaching(PLOT, "plot"))
    sub = submission(nb)
    sub.cells.insert(2, copy.deepcopy(sub.cells[1]))
    assert skipped(nb, sub) == []


def test_a_cell_kept_for_a_reader_keeps_the_teaching_cells_it_reads_in_turn():
    nb = master(teaching("base = 2.0", "base"), teaching("table = [base, base ** 2]", "table"))
    assert skipped(nb) == ["base", "table"]
    assert skipped(nb, submission(nb, "def square(x):\n    return x * x + table[0] * 0")) == []


def test_a_later_definition_of_the_name_hides_the_teaching_one():
    nb = master(teaching(PLOT, "plot"), setup_cell("xs = [0.0]", grade_id="reset"))
    assert skipped(nb, submission(nb, "def square(x):\n    return x * x + xs[0]")) == ["plot"]


def test_a_teaching_cell_that_changes_an_earlier_object_is_kept_for_its_readers():
    nb = master(setup_cell("history = []", grade_id="history"),
                teaching("history.append(1.0)", "append"),
                teaching("train(weights)", "train"))
    assert skipped(nb) == ["append", "train"]
    reads = "def square(x):\n    return x * x + len(history) * 0 + 0 * weights"
    plan = cells_to_skip(nb, submission(nb, reads))
    assert plan.skipped_ids == []
    assert "`history`" in plan.run_anyway["append"] and "`weights`" in plan.run_anyway["train"]


def test_reflection_in_a_later_cell_keeps_every_teaching_cell_before_it():
    nb = master(teaching(PLOT, "plot"))
    for source in ("def square(x):\n    return x * x * len(globals())",
                   "square = eval('lambda x: x * x')",
                   "%time square = lambda x: x * x",
                   "import __main__\nsquare = lambda x: x * x"):
        plan = cells_to_skip(nb, submission(nb, source))
        assert plan.skipped_ids == [], source
        assert "reaches every name" in plan.run_anyway["plot"]


def test_a_teaching_cell_handing_locals_to_a_drawing_reads_but_does_not_define_every_name():
    nb = master(setup_cell("L = 1.0", grade_id="graph"),
                teaching("graph_stepper(L, names=locals())", "stepper"))
    assert skipped(nb) == ["stepper"]
    writes = master(teaching("globals()['xs'] = [1]", "sneaky"))
    assert skipped(writes, submission(writes, "def square(x):\n    return x * x")) == [
        "sneaky"]  # the answer's own `square` is what the test reads
    plan = cells_to_skip(writes, submission(writes, "def square(x):\n    return x * xs[0]"))
    assert plan.skipped_ids == []  # it may have defined `xs`


def test_a_cell_that_does_not_parse_reads_nothing():
    nb = master(teaching(PLOT, "plot"))
    assert skipped(nb, submission(nb, "def square(x):\n    return xs +")) == ["plot"]


def test_misplaced_tags_are_named_and_not_skipped():
    answer = answer_cell()
    answer.metadata["tags"] = [TEACHING_TAG]
    unlocked = new_code_cell("x = 1", metadata={"tags": [TEACHING_TAG]})
    prose = new_markdown_cell("# notes", metadata={"tags": [TEACHING_TAG]})
    nb = notebook(setup_cell("import numpy as np"), unlocked, prose, answer,
                  grade_cell("assert square(3) == 9"))
    problems = misplaced_tags(nb)
    assert len(problems) == 3
    assert "cell 1 (no grade_id)" in problems[0] and "locked" in problems[0]
    assert "not a code cell" in problems[1] and "answer or a test" in problems[2]
    assert skipped(nb) == []


def test_cell_names_reads_and_definitions():
    found = cell_names("import numpy as np\nfrom math import pi\n"
                       "def f(a):\n    return a * scale + pi\n"
                       "class C:\n    k = offset\n"
                       "total = sum(v for v in values)\ndel old\n")
    assert found.reads == {"scale", "offset", "values", "sum"}
    assert {"np", "pi", "f", "C", "total", "old"} <= found.defines
    assert not found.reads_all and not found.defines_all
    assert cell_names("for i in range(3):\n    acc += i").defines >= {"i", "acc"}
    assert cell_names("!ls").defines_all  # a shell escape: get_ipython().system(...)
