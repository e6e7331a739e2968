"""`Outcome` and `SubmissionRecord`: typed in memory, the same text and JSON on disk as before."""

from __future__ import annotations

import json

import pytest

from autograder.gradebook.record import NotebookRecord, SubmissionRecord
from autograder.grading.outcome import Kind, Outcome

# A ledger `detail` as record_submission has always stored it (json.dumps(..., sort_keys=True)).
LEDGER_DETAIL = json.dumps({
    "max_score": 6.0,
    "notebooks": {
        "cube": {"error": None, "max_score": 3.0, "score": 3.0, "seconds": 1.25,
                 "timings": {"kernel start": 0.5, "score": 0.01}},
        "square": {"error": "timed out: stopped after 30 s in one cell", "max_score": 3.0,
                   "score": 1.0, "seconds": 30.5, "timings": {}},
    },
    "score": 4.0,
}, sort_keys=True)


@pytest.mark.parametrize("kind", list(Kind))
def test_an_outcome_reads_back_from_its_text(kind):
    for outcome in (Outcome(kind), Outcome(kind, "what happened: and where")):
        assert Outcome.from_text(str(outcome)) == outcome
    assert str(Outcome(kind, "why")) == f"{kind.value}: why"


def test_graded_is_no_text_and_unknown_text_is_refused():
    assert Outcome.from_text(None) == Outcome() == Outcome(Kind.GRADED)
    assert Outcome().graded and not Outcome(Kind.TIMED_OUT, "x").graded
    with pytest.raises(ValueError, match="known outcome"):
        Outcome.from_text("exploded: somehow")


def test_a_kind_equals_its_text():
    assert Kind.KERNEL_DIED == "kernel died" and f"{Kind.KERNEL_DIED}" == "kernel died"


def test_a_ledger_detail_round_trips_byte_for_byte():
    record = SubmissionRecord.from_detail("ada", "01-derivatives", json.loads(LEDGER_DETAIL))
    assert json.dumps(record.detail(), sort_keys=True) == LEDGER_DETAIL
    assert json.dumps(record.detail()) == LEDGER_DETAIL  # already in the ledger's key order


def test_the_submission_outcome_is_its_first_named_error():
    record = SubmissionRecord.from_detail("ada", "01-derivatives", json.loads(LEDGER_DETAIL))
    assert record.outcome == Outcome(Kind.TIMED_OUT, "stopped after 30 s in one cell")
    assert record.errors == [("square", record.outcome)]
    clean = SubmissionRecord("bob", "01-derivatives", 3.0, 3.0,
                             {"cube": NotebookRecord(3.0, 3.0, Outcome())})
    assert clean.outcome.graded and clean.errors == []
