"""ReadGuardVerdicts: what the guard cells printed decides tampering; the cells then go."""

from nbformat.v4 import new_code_cell

from autograder.grading.outcome import TAMPERING
from autograder.grading.steps.read_guard_verdicts import ReadGuardVerdicts
from autograder.guard import GUARD_KEY

from .cells import grade_cell, notebook, run, stdout

NONCE = "n0nce"


def guard(role, *outputs):
    cell = new_code_cell("__autograder_check__('x')", outputs=list(outputs))
    cell.metadata[GUARD_KEY] = role
    return cell


def read(*cells, executed):
    nb = notebook(*cells)
    return run(ReadGuardVerdicts, nb, {"autograder": {"nonce": NONCE, "executed": executed}})


def test_ok_verdicts_mean_no_tampering_and_the_guard_cells_are_removed():
    nb, resources = read(guard("install", stdout(f"{NONCE} OK\n")), grade_cell(),
                         guard("check", stdout(f"{NONCE} OK\n")), executed={0: "ok", 2: "ok"})
    assert [c.metadata.get(GUARD_KEY) for c in nb.cells] == [None]
    assert resources["autograder"]["tampering"] is None
    assert "failure" not in resources["autograder"]


def test_a_tampered_verdict_names_what_changed_once():
    tampered = f"{NONCE} TAMPERED: numpy.allclose, the notebook's name square before test_a\n"
    again = f"{NONCE} TAMPERED: numpy.allclose before test_b\n"
    nb, resources = read(guard("check", stdout(tampered)), guard("check", stdout(again)),
                         executed={0: "ok", 1: "ok"})
    info = resources["autograder"]
    assert info["failure"] == TAMPERING
    assert info["tampering"] == ("numpy.allclose changed (first seen before test_a); "
                                 "the notebook's name square changed (first seen before test_a)")


def test_a_silenced_or_failed_guard_counts_as_tampering():
    forged = stdout("n0nsense OK\n")  # a line without the nonce is not a verdict
    _, resources = read(guard("check", forged), guard("record", stdout(f"{NONCE} OK\n")),
                        executed={0: "ok", 1: "error"})
    assert resources["autograder"]["tampering"] == (
        "the grader's check cell was silenced changed; the grader's record cell failed changed")
    assert resources["autograder"]["failure"] == TAMPERING


def test_a_guard_that_never_ran_is_no_verdict():
    _, resources = read(guard("install", stdout(f"{NONCE} OK\n")), guard("check"),
                        executed={0: "ok"})  # the kernel died before the check
    assert resources["autograder"]["tampering"] is None
