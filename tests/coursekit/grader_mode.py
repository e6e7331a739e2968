"""A check run as the grader runs it, in this process: the student's names are
`core.StudentCode` stand-ins, each probe goes through JSON to `coursekit.answer.answer`, which
runs it on the real objects, and the answer comes back through JSON.

Only the kernel and its transport are left out; `tests/grading` covers those end to end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from coursekit import core
from coursekit.answer import answer
from coursekit.checks import CheckFailure

Tamper = Callable[[int, dict, dict], dict]


def run_cell(cell: Callable[..., Any], *args: Any) -> tuple[str, str]:
    """The outcome of ``cell(*args)``: ("pass", ""), ("fail", message) or ("todo", "")."""
    try:
        cell(*args)
    except NotImplementedError:
        return "todo", ""
    except CheckFailure as failure:
        return "fail", str(failure)
    return "pass", ""


class InProcessKernel:
    """Answers the grader's requests from ``namespace``, as a grading kernel would; every
    request and answer crosses JSON. ``tamper(index, request, answer)`` may change an answer
    (what a hostile kernel could send)."""

    def __init__(self, namespace: dict, tamper: Tamper | None = None):
        self.namespace = namespace
        self.tamper = tamper
        self.requests: list[dict] = []

    def __call__(self, request: dict) -> dict:
        request = json.loads(json.dumps(request, allow_nan=False))
        self.requests.append(request)
        reply = json.loads(json.dumps(answer(request, self.namespace)))
        if self.tamper is not None:
            reply = self.tamper(len(self.requests) - 1, request, reply)
        return reply


def placeholders(args: Sequence[Any], names: Sequence[str | None]) -> list[Any]:
    """``args`` with a StudentCode for each student's name (None: trusted data, kept)."""
    return [arg if name is None else core.StudentCode(name) for arg, name in zip(args, names)]


def graded(cell: Callable[..., Any], args: Sequence[Any], names: Sequence[str | None],
           tamper: Tamper | None = None) -> tuple[tuple[str, str], InProcessKernel]:
    """``cell`` run as the grader runs it: (outcome, the kernel that answered)."""
    kernel = InProcessKernel({n: a for a, n in zip(args, names) if n is not None}, tamper)
    with core.asking(kernel):
        outcome = run_cell(cell, *placeholders(args, names))
    return outcome, kernel


def both_ways(cell: Callable[..., Any], args: Sequence[Any], names: Sequence[str | None],
              agree: bool = True) -> tuple[str, str]:
    """Run ``cell`` in-process and as the grader runs it; both must agree (or, with
    ``agree=False``, fail both). Returns the in-process outcome."""
    assert len(args) == len(names)
    interactive = run_cell(cell, *args)
    as_graded, _ = graded(cell, args, names)
    if not agree:
        assert interactive[0] == as_graded[0] == "fail", (interactive, as_graded)
        return interactive
    assert as_graded[0] == interactive[0], f"in-process {interactive} but graded {as_graded}"
    return interactive
