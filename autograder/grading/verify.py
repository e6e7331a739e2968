"""Decide every test cell outside the student's kernel, from the master's source and data.

The grading kernel runs the student's notebook with ``COURSEKIT_RECORD=1``: each coursekit
check in a test cell calls the student's code and emits what came back as a display output of
type ``coursekit.core.RECORD_MIME``; nothing is judged there. This module runs in the grader's
own process, which runs no student code. For one test cell it takes the master's source (never
the submission's), binds the notebook's setup imports and, for every other name the cell reads,
a `coursekit.core.StudentCode` stand-in, and replays the cell with those records: the checks
draw the same inputs from their seeds, compute the expected values themselves and judge the
recorded results. The visible part and the hidden part are replayed one after the other, so a
verdict says which of the two failed.

What a student may see of a verdict (`Verdict.public`) is fixed text and the cell's points:
no value, message or type name that came out of the grading kernel, which had received the
hidden tests' source. The instructor's message (`Verdict.message`) is the check's full one.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
from dataclasses import dataclass

from coursekit import core

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
#: Most records one test cell may carry, and most bytes of record data in all.
MAX_RECORDS = 5_000
MAX_RECORD_BYTES = 20_000_000

PASSED = "passed"
FAILED_VISIBLE = "failed the visible test"
FAILED_HIDDEN = "failed a hidden test"
NOT_DONE = "not implemented"


@dataclass(frozen=True)
class Verdict:
    """One test cell, decided."""

    passed: bool
    outcome: str  # PASSED, FAILED_VISIBLE, FAILED_HIDDEN or NOT_DONE
    message: str  # for the instructor: the check's own message, or what was wrong
    public: str  # for the student: fixed text only
    output: str = ""  # what the replay printed (the cell's ✓ lines)
    ename: str = ""  # CheckFailure, NotImplementedError, RecordError, ...
    hint: str = ""  # for the instructor's report: the check's what-to-try, if it had one


PUBLIC = {
    PASSED: "passed",
    FAILED_VISIBLE: "the visible test in this cell fails: run the cell in your notebook to see "
                    "which input, the expected and actual values, and a hint",
    FAILED_HIDDEN: "the visible test passes but a hidden test of the same kind fails: your code "
                   "is wrong for inputs the visible test does not try (other values, signs, "
                   "shapes or sizes)",
    NOT_DONE: "not implemented yet (NotImplementedError)",
}


def split_parts(source: str) -> list[tuple[str, str]]:
    """The cell as [(part, source)], part 'visible' or 'hidden', in order."""
    parts: list[tuple[str, list[str]]] = [("visible", [])]
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN_HIDDEN:
            parts.append(("hidden", []))
        elif marker == END_HIDDEN:
            parts.append(("visible", []))
        else:
            parts[-1][1].append(line)
    return [(part, "\n".join(lines)) for part, lines in parts if any(s.strip() for s in lines)]


def setup_imports(sources: list[str]) -> str:
    """Every top-level import statement of the master's locked cells, as one program."""
    statements = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # IPython magics in a teaching cell; such a cell imports nothing we need
        statements += [ast.unparse(node) for node in tree.body
                       if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(statements))


def read_records(outputs: list) -> list[dict]:
    """The records in a cell's outputs, in order; ValueError for malformed ones."""
    records = []
    size = 0
    for output in outputs:
        if output.get("output_type") != "display_data":
            continue
        data = output.get("data") or {}
        if core.RECORD_MIME not in data:
            continue
        payload = data[core.RECORD_MIME]
        if isinstance(payload, str):  # some front ends store JSON MIME data as text
            size += len(payload)
            if size > MAX_RECORD_BYTES:
                raise ValueError("more record data than any check produces")
            payload = json.loads(payload)
        else:
            size += len(json.dumps(payload))
            if size > MAX_RECORD_BYTES:
                raise ValueError("more record data than any check produces")
        records.append(core.decode_record(payload))
        if len(records) > MAX_RECORDS:
            raise ValueError("more records than any check produces")
    return records


def _namespace(imports: str, source: str) -> dict:
    """The setup imports the cell reads (only those: a teaching cell's plotting and widget
    imports would cost every worker seconds), and a stand-in for every other name it reads."""
    namespace: dict = {"__builtins__": builtins, "__name__": "__verify__"}
    read = {node.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    needed = [statement for statement in ast.parse(imports).body
              if {(alias.asname or alias.name).split(".")[0] for alias in statement.names} & read]
    exec(compile(ast.Module(needed, []), "<setup imports>", "exec"), namespace)  # noqa: S102
    for name in sorted(read):
        if name not in namespace and not hasattr(builtins, name):
            namespace[name] = core.StudentCode(name)
    return namespace


def verify_cell(source: str, outputs: list, imports: str) -> Verdict:
    """Replay the master's test cell ``source`` against the records in ``outputs``."""
    try:
        records = read_records(outputs)
    except (ValueError, TypeError, RecursionError) as error:
        return _failed(FAILED_VISIBLE, "RecordError",
                       f"the grader could not read this cell's records ({error})")
    namespace = _namespace(imports, source)
    shown = io.StringIO()  # what the visible part printed; the hidden part's prints are dropped
    with core.replaying(records) as replay:
        for part, code in split_parts(source):
            outcome = FAILED_HIDDEN if part == "hidden" else FAILED_VISIBLE
            printed = shown if part == "visible" else io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(code, f"<test cell, {part} part>", "exec"), namespace)  # noqa: S102
            except NotImplementedError:
                return _failed(NOT_DONE, "NotImplementedError",
                               "the code this test checks raises NotImplementedError")
            except core.RecordError as error:
                return _failed(outcome, "RecordError", str(error))
            except AssertionError as error:  # CheckFailure and plain asserts
                return _failed(outcome, type(error).__name__, str(error),
                               getattr(error, "hint", ""))
            except core.ReplayMisuse as error:
                return _failed(outcome, "GraderError", f"the master test cell is not "
                               f"replayable: {error}; fix the master")
            except Exception as error:  # noqa: BLE001 (a check's own bug: never a pass)
                return _failed(outcome, "GraderError",
                               f"the replay failed: {type(error).__name__}: {error}")
        left = replay.left_over()
    if left:
        return _failed(FAILED_VISIBLE, "RecordError",
                       f"{left} record(s) more than the checks of this cell make: the notebook "
                       "emitted results of its own")
    return Verdict(True, PASSED, "", PUBLIC[PASSED], shown.getvalue())


def _failed(outcome: str, ename: str, message: str, hint: str = "") -> Verdict:
    return Verdict(False, outcome, message, PUBLIC[outcome], ename=ename, hint=str(hint)[:300])
