"""Decide a test cell in the grader's own process, asking the kernel only for data.

The grading kernel never runs a test cell. For each graded test cell the executor calls
:func:`verify_cell` with the master's source (never the submission's) and an ``ask`` function
that sends one request to the student's kernel and returns its answer. The cell runs here with
the master's setup imports and, for every other name it reads, a `coursekit.core.StudentCode`
stand-in; each coursekit check draws its inputs, sends its probe to the kernel
(`coursekit.core.asking`), and judges the data that comes back against expected values it
computes itself. The visible part and the hidden part run one after the other, so a verdict
says which of the two failed.

What a student may see of a verdict (`Verdict.public`) is fixed text and the cell's points:
no value, message or type name that came out of the grading kernel. The instructor's message
(`Verdict.message`) is the check's full one.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import io
from dataclasses import dataclass

from coursekit import core

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
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
    #: for the instructor's report: libraries or helpers the answers said they computed with
    generic: tuple[str, ...] = ()


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


class RequestFailed(Exception):
    """The kernel could not answer a request at all (it died, or stopped answering)."""

    def __init__(self, ename: str, message: str):
        super().__init__(message)
        self.ename = ename


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


def verify_cell(source: str, imports: str, ask: core.Asker) -> Verdict:
    """Run the master's test cell ``source`` here, sending every probe to ``ask``."""
    try:
        namespace = _namespace(imports, source)
    except Exception as error:  # noqa: BLE001  (a master that does not parse or import)
        return _failed(FAILED_VISIBLE, "GraderError",
                       f"the master test cell cannot run in the grader: {type(error).__name__}: "
                       f"{error}; fix the master")
    shown = io.StringIO()  # what the visible part printed; the hidden part's prints are dropped
    core.noted_uses()  # forget what an earlier cell's answers said
    try:
        verdict = _run_parts(source, namespace, ask, shown)
    finally:
        generic = tuple(core.noted_uses())
    return dataclasses.replace(verdict, generic=generic) if generic else verdict


def _run_parts(source: str, namespace: dict, ask: core.Asker, shown: io.StringIO) -> Verdict:
    with core.asking(ask):
        for part, code in split_parts(source):
            outcome = FAILED_HIDDEN if part == "hidden" else FAILED_VISIBLE
            printed = shown if part == "visible" else io.StringIO()
            try:
                with contextlib.redirect_stdout(printed), core.quietly():
                    exec(compile(code, f"<test cell, {part} part>", "exec"), namespace)  # noqa: S102
            except NotImplementedError:
                return _failed(NOT_DONE, "NotImplementedError",
                               "the code this test checks raises NotImplementedError")
            except RequestFailed as error:
                return _failed(outcome, error.ename, str(error))
            except core.RecordError as error:
                return _failed(outcome, "RecordError", str(error))
            except AssertionError as error:  # CheckFailure and plain asserts
                return _failed(outcome, type(error).__name__, str(error),
                               getattr(error, "hint", ""))
            except core.ReplayMisuse as error:
                return _failed(outcome, "GraderError", f"the master test cell cannot run in "
                               f"the grader: {error}; fix the master")
            except Exception as error:  # noqa: BLE001 (never a pass)
                # the check could not judge what came back: data of a shape it did not expect
                # (the kernel's doing) or a bug of the check (`autograder check` finds those,
                # as the master's own answer fails)
                return _failed(outcome, "CheckError",
                               f"the check could not judge the answer: {type(error).__name__}: "
                               f"{error}")
    return Verdict(True, PASSED, "", PUBLIC[PASSED], shown.getvalue())


def _failed(outcome: str, ename: str, message: str, hint: str = "") -> Verdict:
    return Verdict(False, outcome, message, PUBLIC[outcome], ename=ename, hint=str(hint)[:300])
