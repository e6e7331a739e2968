"""How grading a notebook ended: `Outcome`, a kind (graded or a named error) and its detail.

The grade table, the ledger and every export show an outcome as `str(outcome)`: the kind alone
("graded") or "kind: detail" ("timed out: stopped after 30 s in one cell ..."). That text is
what the ledger stores; `Outcome.from_text` reads it back by its known kind, never by splitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    """What became of a notebook; equal to its text ("graded", "timed out", ...)."""

    GRADED = "graded"
    # found while collecting or loading
    MISSING = "missing notebook"
    WRONG_ASSIGNMENT = "wrong assignment"
    NOT_A_NOTEBOOK = "not a notebook"
    INVALID_JSON = "invalid JSON"
    LINKED = "symbolic link"  # a submitted file or folder that is a link (never followed)
    BAD_ARCHIVE = "bad archive"  # a zip that cannot be extracted safely
    TOO_LARGE = "too large"  # over a size limit checked before anything runs
    # found while executing or scoring
    TIMED_OUT = "timed out"
    MEMORY = "killed for memory"
    KERNEL_DIED = "kernel died"
    DISK_QUOTA = "over the disk quota"  # wrote more than its scratch quota (no bwrap)
    TAMPERING = "tampering detected"  # no longer produced; kept so older ledgers load
    # anything else that went wrong for this one submission (the grader's own exception)
    GRADER_ERROR = "grading failed"
    # the grading process running it died, twice (over its memory cap, from what its kernel sent)
    WORKER_DIED = "grader worker died"

    def __str__(self) -> str:
        return self.value


# Short names for the kinds, as the steps and collectors raise them.
GRADED = Kind.GRADED
MISSING = Kind.MISSING
WRONG_ASSIGNMENT = Kind.WRONG_ASSIGNMENT
NOT_A_NOTEBOOK = Kind.NOT_A_NOTEBOOK
INVALID_JSON = Kind.INVALID_JSON
TIMED_OUT = Kind.TIMED_OUT
MEMORY = Kind.MEMORY
KERNEL_DIED = Kind.KERNEL_DIED
DISK_QUOTA = Kind.DISK_QUOTA
TAMPERING = Kind.TAMPERING
LINKED = Kind.LINKED
BAD_ARCHIVE = Kind.BAD_ARCHIVE
TOO_LARGE = Kind.TOO_LARGE
GRADER_ERROR = Kind.GRADER_ERROR
WORKER_DIED = Kind.WORKER_DIED


@dataclass(frozen=True)
class Outcome:
    """A kind and, for a named error, one sentence or two on what happened and what to do."""

    kind: Kind = Kind.GRADED
    detail: str = ""

    @property
    def graded(self) -> bool:
        """Graded cleanly (no named error)."""
        return self.kind is Kind.GRADED

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.detail}" if self.detail else self.kind.value

    @classmethod
    def from_text(cls, text: str | None) -> Outcome:
        """The outcome `str(outcome)` wrote (None: graded). Unknown text raises ValueError."""
        if not text:
            return cls()
        for kind in Kind:
            if text == kind.value:
                return cls(kind)
            if text.startswith(kind.value + ": "):
                return cls(kind, text[len(kind.value) + 2:])
        raise ValueError(f"{text[:80]!r} does not start with a known outcome "
                         f"({', '.join(k.value for k in Kind)})")
