"""Named errors a graded notebook or submission can end with (grade table and exports)."""

from __future__ import annotations

GRADED = "graded"
# found while collecting or loading
MISSING = "missing notebook"
WRONG_ASSIGNMENT = "wrong assignment"
NOT_A_NOTEBOOK = "not a notebook"
INVALID_JSON = "invalid JSON"
# found while executing or scoring
TIMED_OUT = "timed out"
MEMORY = "killed for memory"
KERNEL_DIED = "kernel died"
TAMPERING = "tampering detected"
