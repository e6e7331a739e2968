"""Deciding a test cell in the grader: `verify_cell` runs the master's source here and asks a
kernel only for data; `VerifyGradeCells` writes each verdict into its cell.

The kernel is `tests.coursekit.grader_mode.InProcessKernel` (coursekit's own answering code,
through JSON both ways); the real kernel and its transport are in test_sandboxed_execute.py.
"""

import json

import numpy as np
from coursekit import core
from nbformat.v4 import new_output

from autograder.grading.steps.verify_grade_cells import VERDICT_KEY, VerifyGradeCells
from autograder.grading.verify import (
    FAILED_HIDDEN,
    FAILED_VISIBLE,
    NOT_DONE,
    PASSED,
    RequestFailed,
    Verdict,
    verify_cell,
)
from tests.coursekit.grader_mode import InProcessKernel

from .cells import answer_cell, error, grade_cell, notebook, run

IMPORTS = "import numpy as np\nfrom coursekit.checks import check_values"
SOURCE = ("check_values(square, np.square, [(3.0,)], 'square')\nprint('✓ square')\n"
          "### BEGIN HIDDEN TESTS\n"
          "check_values(square, np.square, [(-1.5,), (2.0,)], 'square')\n"
          "### END HIDDEN TESTS")


def decide(square, source=SOURCE, tamper=None):
    kernel = InProcessKernel({"square": square}, tamper)
    return verify_cell(source, IMPORTS, kernel), kernel


def test_right_results_pass_and_the_cells_own_print_is_kept():
    verdict, kernel = decide(lambda x: x * x)
    assert verdict.passed and verdict.outcome == PASSED and verdict.output == "✓ square\n"
    assert len(kernel.requests) == 3  # one per call of the student's code


def test_the_kernel_receives_the_inputs_and_nothing_else():
    """No source, no reference, no seed, no expected value: the probe, the name, the inputs."""
    _, kernel = decide(lambda x: x * x)
    sent = json.dumps(kernel.requests)
    assert kernel.requests[1] == {"probe": "coursekit.checks:call_value",
                                  "args": {"function": {"~name": "square"}, "args": [-1.5],
                                           "what": "`square`",
                                           "where": "the inputs the grader sent"}}
    for secret in ("np.square", "HIDDEN", "check_values", "2.25", "print"):
        assert secret not in sent


def test_a_wrong_hidden_result_fails_the_hidden_part_with_the_instructors_message():
    verdict, _ = decide(lambda x: x * x if x > 0 else 0.0)
    assert verdict.outcome == FAILED_HIDDEN and not verdict.passed
    assert "expected 2.25, got 0" in verdict.message
    assert "2.25" not in verdict.public


def test_non_finite_and_huge_answers_fail_however_large_the_tolerance_would_grow():
    for value in (float("inf"), float("-inf"), float("nan"), 1e308, -1e308):
        verdict, _ = decide(lambda x, value=value: value)
        assert verdict.outcome == FAILED_VISIBLE, value


def test_a_forged_answer_changes_only_the_data():
    """A kernel that answers every request with the right number still gets judged on it;
    one that claims a verdict or sends junk fails with a named reason."""
    def right(index, request, reply):
        return {"value": core.encode(np.array(request["args"]["args"][0] ** 2))}
    assert decide(lambda x: 0.0, tamper=right)[0].passed  # the data was right: that is all

    def plain_number(index, request, reply):  # right, but not the float array asked for
        return {"value": request["args"]["args"][0] ** 2}
    verdict = decide(lambda x: x * x, tamper=plain_number)[0]
    assert not verdict.passed and verdict.ename == "RecordError"
    for junk in ({"value": 9.0, "verdict": "passed"}, {"passed": True}, {"value": "9"},
                 {"error": ["CheckFailure"]}, {"value": {"~nd": ["<f8", [10**9], "AAAA"]}}):
        verdict, _ = decide(lambda x: x * x, tamper=lambda i, r, a, junk=junk: junk)
        assert not verdict.passed, junk


def test_a_not_implemented_answer_reads_as_not_done():
    def stub(x):
        raise NotImplementedError()

    assert decide(stub)[0].outcome == NOT_DONE


def test_a_kernel_that_cannot_answer_fails_the_test_with_its_reason():
    def gone(request):
        raise RequestFailed("DeadKernelError", "the kernel died while answering")

    verdict = verify_cell(SOURCE, IMPORTS, gone)
    assert not verdict.passed and verdict.ename == "DeadKernelError"


def test_a_test_cell_that_uses_student_code_itself_is_refused_as_a_grader_error():
    verdict, kernel = decide(lambda x: x * x, "assert square(3.0) == 9.0")
    assert not verdict.passed and verdict.ename == "GraderError"
    assert kernel.requests == []


def test_the_hint_a_failure_got_is_kept_for_the_instructor_only():
    source = ("from coursekit.checks import check_gradient\n"
              "check_gradient(grad, lambda x, y: x * y + y, (2.0, 3.0), ('x', 'y'), 'grad')")
    kernel = InProcessKernel({"grad": lambda x, y: (-y, -(x + 1))})
    verdict = verify_cell(source, IMPORTS, kernel)
    assert verdict.outcome == FAILED_VISIBLE
    assert verdict.hint == "the sign is flipped — check the sign"


# ----------------------------------------------------------------------------- writing verdicts


def write(verdicts, *outputs):
    nb = notebook(answer_cell(), grade_cell(SOURCE, outputs=list(outputs)))
    nb, resources = run(VerifyGradeCells, nb, {"autograder": {"verdicts": verdicts}})
    return nb.cells[1], resources["autograder"]["verdicts"]["test_square"]


def test_a_passed_verdict_keeps_only_what_the_visible_part_printed():
    cell, _ = write({"test_square": Verdict(True, PASSED, "", "passed", "✓ square\n")},
                    new_output("stream", name="stdout", text="All tests passed!\n"))
    assert [o.output_type for o in cell.outputs] == ["stream"]
    assert cell.outputs[0].text == "✓ square\n"
    assert cell.metadata[VERDICT_KEY] == {"outcome": PASSED, "public": "passed"}


def test_a_failed_verdict_is_an_error_output_nbgrader_scores_0():
    verdict = Verdict(False, FAILED_HIDDEN, "expected 2.25, got 0", "fixed text",
                      ename="CheckFailure", hint="h")
    cell, _ = write({"test_square": verdict})
    assert cell.outputs[0].output_type == "error" and "2.25" in cell.outputs[0].evalue
    assert cell.metadata[VERDICT_KEY] == {"outcome": FAILED_HIDDEN, "public": "fixed text",
                                          "hint": "h"}


def test_a_test_the_run_never_reached_fails_and_says_why():
    cell, verdict = write({}, error("DeadKernelError", "the kernel died"))
    assert not verdict.passed and verdict.ename == "NotRun"
    assert cell.outputs[0].output_type == "error"


def test_verdict_metadata_planted_on_other_cells_is_removed():
    nb = notebook(answer_cell(), grade_cell(SOURCE))
    for cell in nb.cells:
        cell.metadata[VERDICT_KEY] = {"outcome": PASSED, "public": "passed"}
    nb, _ = run(VerifyGradeCells, nb)
    assert VERDICT_KEY not in nb.cells[0].metadata
    assert nb.cells[1].metadata[VERDICT_KEY]["outcome"] == FAILED_VISIBLE
