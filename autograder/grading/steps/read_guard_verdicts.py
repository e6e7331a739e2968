"""Score: what the guard cells printed is read, then the guard cells are removed."""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.grading.outcome import TAMPERING
from autograder.grading.state import state
from autograder.guard import GUARD_KEY


class ReadGuardVerdicts(NbGraderPreprocessor):
    """Read what the guard cells printed, then remove them (they never reach feedback)."""

    def preprocess(self, nb, resources):
        info = state(resources)
        nonce = info.get("nonce", "")
        executed = info.get("executed", {})
        problems = []
        kept = []
        for index, cell in enumerate(nb.cells):
            role = cell.metadata.get(GUARD_KEY)
            if role is None:
                kept.append(cell)
                continue
            if index not in executed:
                continue  # the notebook stopped before it (timeout, dead kernel)
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            lines = [line for line in text.splitlines() if line.startswith(nonce)]
            if executed[index] != "ok" or not lines:
                how = "failed" if executed[index] != "ok" else "was silenced"
                problems.append(f"the grader's {role} cell {how}")
            elif "TAMPERED:" in lines[0]:
                problems.append(lines[0][len(nonce):].replace("TAMPERED:", "").strip())
        nb.cells = kept
        info["tampering"] = _summarize(problems) or None
        if problems:
            info["failure"] = TAMPERING
        return nb, resources


def _summarize(problems: list[str]) -> str:
    """'numpy.allclose changed (first seen before test_x)' once per change, not once per check."""
    seen: dict[str, str] = {}
    for problem in problems:
        what, _, where = problem.partition(" before ")
        for item in what.split(", "):
            seen.setdefault(item, where)
    return "; ".join(f"{item} changed" + (f" (first seen before {where})" if where else "")
                     for item, where in seen.items())
