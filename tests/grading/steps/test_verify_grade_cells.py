"""VerifyGradeCells: each test cell is decided from its records, never from the kernel's verdict.

The records are made the way the grading kernel makes them (coursekit's record mode, here in
memory), then put into a test cell's outputs as display data.
"""

import numpy as np
from coursekit import core
from coursekit.checks import check_values
from nbformat.v4 import new_output

from autograder.grading.steps.verify_grade_cells import VERDICT_KEY, VerifyGradeCells
from autograder.grading.verify import FAILED_HIDDEN, FAILED_VISIBLE, NOT_DONE, PASSED

from .cells import answer_cell, error, grade_cell, notebook, run, stdout

SOURCE = ("import numpy as np\nfrom coursekit.checks import check_values\n"
          "check_values(square, np.square, [(3.0,)], 'square')\nprint('✓ square')\n"
          "### BEGIN HIDDEN TESTS\n"
          "check_values(square, np.square, [(-1.5,), (2.0,)], 'square')\n"
          "### END HIDDEN TESTS")


def records_of(square) -> list:
    """The display outputs the grading kernel would emit for SOURCE with this `square`."""
    with core.recording() as payloads:
        check_values(square, np.square, [(3.0,)], "square")
        check_values(square, np.square, [(-1.5,), (2.0,)], "square")
    return [new_output("display_data", data={core.RECORD_MIME: p}) for p in payloads]


def verdict_of(outputs, source=SOURCE):
    nb = notebook(answer_cell(), grade_cell(source, outputs=outputs))
    nb, resources = run(VerifyGradeCells, nb)
    return nb.cells[1], resources["autograder"]["verdicts"]["test_square"]


def test_right_results_pass_and_the_replays_own_print_is_kept():
    cell, verdict = verdict_of(records_of(lambda x: x * x))
    assert verdict.passed and cell.metadata[VERDICT_KEY]["outcome"] == PASSED
    assert [o.output_type for o in cell.outputs] == ["stream"]
    assert cell.outputs[0].text == "✓ square\n"


def test_a_wrong_hidden_result_fails_the_hidden_part():
    cell, verdict = verdict_of(records_of(lambda x: x * x if x > 0 else 0.0))
    assert verdict.outcome == FAILED_HIDDEN and not verdict.passed
    assert cell.outputs[0].output_type == "error"  # nbgrader scores it 0
    assert "expected 2.25, got 0" in cell.outputs[0].evalue  # the instructor's message
    assert "2.25" not in cell.metadata[VERDICT_KEY]["public"]  # never the student's


def test_what_the_kernel_printed_or_claimed_counts_for_nothing():
    """No records at all: outputs saying 'passed', with no error, still fail."""
    cell, verdict = verdict_of([stdout("✓ square\nAll tests passed!\n")])
    assert verdict.outcome == FAILED_VISIBLE and "no result" in verdict.message


def test_an_error_the_kernel_reported_does_not_matter_either():
    cell, verdict = verdict_of([error("AssertionError", "kernel says no"),
                                *records_of(lambda x: x * x)])
    assert verdict.passed


def test_extra_and_reordered_records_fail():
    good = records_of(lambda x: x * x)
    assert not verdict_of(good + good[:1])[1].passed  # one extra
    assert not verdict_of([good[1], good[0], good[2]])[1].passed  # swapped


def test_malformed_records_fail_with_a_named_reason():
    bad = new_output("display_data", data={core.RECORD_MIME: {"label": "x", "value": {"~nd":
                                                              ["<f8", [10**9], "AAAA"]}}})
    cell, verdict = verdict_of([bad])
    assert not verdict.passed and verdict.ename == "RecordError"


def test_a_recorded_not_implemented_error_reads_as_not_done():
    def stub(x):
        raise NotImplementedError()

    cell, verdict = verdict_of(records_of(stub))
    assert verdict.outcome == NOT_DONE


def test_a_test_cell_that_uses_student_code_itself_is_refused_as_a_grader_error():
    cell, verdict = verdict_of(records_of(lambda x: x * x), "assert square(3.0) == 9.0")
    assert not verdict.passed and verdict.ename == "GraderError"


def test_verdict_metadata_planted_on_other_cells_is_removed():
    nb = notebook(answer_cell(), grade_cell(SOURCE, outputs=records_of(lambda x: 0.0)))
    for cell in nb.cells:
        cell.metadata[VERDICT_KEY] = {"outcome": PASSED, "public": "passed"}
    nb, _ = run(VerifyGradeCells, nb)
    assert VERDICT_KEY not in nb.cells[0].metadata
    assert nb.cells[1].metadata[VERDICT_KEY]["outcome"] == FAILED_VISIBLE


GRADIENT = ("from coursekit.checks import check_gradient\n"
            "check_gradient(grad, lambda x, y: x * y + y, (2.0, 3.0), ('x', 'y'), 'grad')")


def test_the_hint_a_failure_got_is_kept_for_the_instructor_only():
    from coursekit.checks import check_gradient

    with core.recording() as payloads:  # a gradient with the sign flipped
        check_gradient(lambda x, y: (-y, -(x + 1)), lambda x, y: x * y + y, (2.0, 3.0),
                       ("x", "y"), "grad")
    outputs = [new_output("display_data", data={core.RECORD_MIME: p}) for p in payloads]
    cell, verdict = verdict_of(outputs, GRADIENT)
    assert verdict.outcome == FAILED_VISIBLE
    assert cell.metadata[VERDICT_KEY]["hint"] == "the sign is flipped — check the sign"

    from autograder.exports.feedback_steps import ShowVerdictsOnly

    shown, _ = run(ShowVerdictsOnly, notebook(answer_cell(), cell))
    assert "hint" not in shown.cells[1].metadata[VERDICT_KEY]  # feedback never carries it
