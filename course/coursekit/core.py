"""How every check calls your code, and how the grader scores it without trusting the kernel.

A check has two halves. The *probe* calls your code on inputs the check chose and turns what
came back into plain data (numbers, arrays, strings, lists). The *judgement* compares that data
with expected values the kit computes itself (numpy, finite differences). The probe goes
through :func:`observe`; the judgement sits under ``if deciding():``.

In your own Jupyter both halves run, one after the other, and a wrong answer raises
:class:`CheckFailure` at once. When the grader runs your notebook it sets
``COURSEKIT_RECORD=1``: then the probes run and each emits its data as a display output of
type :data:`RECORD_MIME`, and no judgement runs in your kernel at all. Afterwards, in a process
that runs none of your code, the grader replays every test cell of the master notebook inside
:func:`replaying`: there each probe returns the recorded data instead of calling anything, and
the judgements decide. So nothing a notebook does can change a verdict except returning the
right results; a missing, extra, malformed or reordered record fails its test.
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

#: The display-output type of one probe's record.
RECORD_MIME = "application/vnd.coursekit.record+json"
#: Set to "1" in the grader's kernel: probes record, nothing is judged.
RECORD_ENV = "COURSEKIT_RECORD"
#: Largest array (entries) a record may carry, and deepest nesting of its data.
MAX_ENTRIES = 2_000_000
MAX_DEPTH = 12


class CheckFailure(AssertionError):
    """A check found your code wrong; the message says where, how, and what to try.

    ``hint`` is the what-to-try part alone ("" when no specific bug was recognised), so the
    instructor's class report can count which hints fired."""

    def __init__(self, message: str = "", hint: str = ""):
        super().__init__(message)
        self.hint = hint


class RecordError(CheckFailure):
    """The grader's records for a test cell are missing, extra, malformed or out of order."""


class StudentCode:
    """Stands for a name the student's notebook defines, while the grader replays a test cell.

    The replay runs none of the student's code, so anything other than handing this to a
    check (an attribute, a call, arithmetic) is a mistake in the test cell and says so.
    """

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    @property
    def __name__(self) -> str:  # noqa: PLW3201  (used like a class's name in messages)
        return self._name

    def __repr__(self) -> str:
        return f"<student's {self._name}>"

    def __getattr__(self, attribute: str):
        raise ReplayMisuse(f"the test cell reads `{self._name}.{attribute}` directly; only "
                           "coursekit checks may use the student's names")

    def __call__(self, *args, **kwargs):
        raise ReplayMisuse(f"the test cell calls `{self._name}` directly; only coursekit "
                           "checks may call the student's code")


class ReplayMisuse(RuntimeError):
    """A test cell used the student's code outside a coursekit check (an authoring error)."""


def name_of(obj: Any, fallback: str = "your code") -> str:
    """The name to use for ``obj`` in messages: the test cell's name for it when replaying."""
    if isinstance(obj, StudentCode):
        return obj.__name__
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else fallback


# ----------------------------------------------------------------------------- modes


class _Replay:
    def __init__(self, records: list[dict]):
        self.records = records
        self.position = 0

    def take(self, label: str) -> dict:
        if self.position >= len(self.records):
            raise RecordError(
                f"the grader has no result for the step '{label}': the test cell did not run "
                "to its end in your notebook (an error, a timeout or a dead kernel before it), "
                "or something in the notebook stopped the check from recording")
        record = self.records[self.position]
        self.position += 1
        if record.get("label") != label:
            raise RecordError(
                f"the grader expected the step '{label}' but found "
                f"'{str(record.get('label'))[:80]}': the checks in your notebook did not run "
                "as written")
        return record

    def left_over(self) -> int:
        return len(self.records) - self.position


_REPLAY: _Replay | None = None
_CAPTURE: list[dict] | None = None  # records kept in memory instead of displayed (tests)


def mode() -> str:
    """'verify' while the grader replays records, 'record' in the grader's kernel, otherwise
    'interactive' (your own Jupyter)."""
    if _REPLAY is not None:
        return "verify"
    if _CAPTURE is not None or os.environ.get(RECORD_ENV) == "1":
        return "record"
    return "interactive"


def deciding() -> bool:
    """True where checks judge (your Jupyter, the grader's replay); False in the grader's
    kernel, which only records."""
    return mode() != "record"


@contextlib.contextmanager
def replaying(records: list[dict]) -> Iterator[_Replay]:
    """Run checks against ``records`` (decoded with :func:`decode_record`) instead of code."""
    global _REPLAY
    if _REPLAY is not None:
        raise RuntimeError("replays do not nest")
    _REPLAY = _Replay(records)
    try:
        yield _REPLAY
    finally:
        _REPLAY = None


@contextlib.contextmanager
def recording() -> Iterator[list[dict]]:
    """Record probes into a list (as JSON payloads) instead of displaying them."""
    global _CAPTURE
    _CAPTURE = []
    try:
        yield _CAPTURE
    finally:
        _CAPTURE = None


# ----------------------------------------------------------------------------- observing


class Raised:
    """What a probe's code raised, as data (in the grader's kernel, where nothing is judged)."""

    def __init__(self, type_name: str, message: str):
        self.type_name = type_name
        self.message = message


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """numpy warnings and floating-point errors silenced (a test cell must not write stderr)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


ErrorHint = Callable[[str, str], str]


def observe(label: str, probe: Callable[[], Any], what: str, where: str,
            hint: ErrorHint | None = None) -> Any:
    """Run ``probe`` (which calls your code and returns plain data) and return its data.

    ``label`` names the step in records (built from the check's own inputs only, so the
    grader's replay computes the same label). If your code raises, the failure is explained
    with ``what`` (the code that was called), ``where`` (the inputs) and ``hint(type name,
    message)``; ``NotImplementedError`` passes through unchanged.
    """
    current = mode()
    if current == "verify":
        record = _REPLAY.take(label)
        if "error" in record:
            type_name, message = record["error"]
            raise_explained(type_name, message, what, where, hint)
        return record["value"]
    try:
        with quietly():
            data = probe()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001  (student code may raise anything)
        type_name, message = type(error).__name__, _message(error)
        if current == "record":
            _emit({"label": label, "error": [type_name, message]})
            return Raised(type_name, message)
        if isinstance(error, (NotImplementedError, CheckFailure)):
            raise
        raise_explained(type_name, message, what, where, hint, cause=error)
    if current == "record":
        _emit({"label": label, "value": encode(data)})
    return data


def _message(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # noqa: BLE001
        text = "(its message could not be shown)"
    return text[:500]


def raise_explained(type_name: str, message: str, what: str, where: str,
                    hint: ErrorHint | None = None, cause: BaseException | None = None):
    """Raise the CheckFailure (or NotImplementedError) for code that raised ``type_name``."""
    if type_name == "NotImplementedError":
        raise NotImplementedError(message) from None
    if type_name in ("CheckFailure", "RecordError"):
        raise CheckFailure(message) from None
    if type_name == "RecursionError":
        raise CheckFailure(
            f"{what} hit Python's recursion limit on {where}: Python allows about 1,000 nested "
            "calls, and a graph can be deeper than that. Walk the graph with an explicit stack "
            "(a list you append to and pop from) instead of a recursive function.") from None
    extra = hint(type_name, message) if hint else ""
    raise CheckFailure(
        f"{what} raised {type_name}: {message} — at {where}.{extra}",
        hint=extra.strip()) from cause


def _emit(payload: dict) -> None:
    if _CAPTURE is not None:
        _CAPTURE.append(payload)
        return
    from IPython.display import publish_display_data

    publish_display_data({RECORD_MIME: payload})


# ----------------------------------------------------------------------------- plain data


def encode(value: Any) -> Any:
    """Plain data as JSON: arrays as base64 float64/int64/bool, non-finite floats tagged."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else {"~f": repr(number)}
    if isinstance(value, np.ndarray):
        kind = {"f": "<f8", "i": "<i8", "u": "<i8", "b": "|b1"}.get(value.dtype.kind)
        if kind is None:
            raise TypeError(f"cannot record an array of dtype {value.dtype}")
        array = np.asarray(value, dtype=kind)
        text = base64.b64encode(array.tobytes(order="C")).decode()
        return {"~nd": [kind, list(array.shape), text]}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    raise TypeError(f"cannot record {type(value).__name__}")


def decode(data: Any, depth: int = 0) -> Any:
    """The inverse of :func:`encode`; raises ValueError for anything it would not produce."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, int):
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        return [decode(item, depth + 1) for item in data]
    if isinstance(data, dict) and list(data) == ["~f"]:
        if data["~f"] not in ("nan", "inf", "-inf"):
            raise ValueError("bad number")
        return float(data["~f"])
    if isinstance(data, dict) and list(data) == ["~nd"]:
        kind, shape, text = data["~nd"]
        if kind not in ("<f8", "<i8", "|b1") or not isinstance(shape, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
            raise ValueError("bad array header")
        size = math.prod(shape)
        if size > MAX_ENTRIES or len(shape) > 8 or not isinstance(text, str):
            raise ValueError("array too large")
        raw = base64.b64decode(text, validate=True)
        dtype = np.dtype(kind)
        if len(raw) != size * dtype.itemsize:
            raise ValueError("array data does not fit its shape")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    raise ValueError(f"unexpected {type(data).__name__} in a record")


def decode_record(payload: Any) -> dict:
    """One record from a display output, checked: {'label', 'value'} or {'label', 'error'}."""
    if not isinstance(payload, dict) or not isinstance(payload.get("label"), str):
        raise ValueError("a record without a label")
    keys = set(payload)
    if keys == {"label", "value"}:
        return {"label": payload["label"], "value": decode(payload["value"])}
    if keys == {"label", "error"}:
        error = payload["error"]
        if (isinstance(error, list) and len(error) == 2
                and all(isinstance(part, str) for part in error)):
            return {"label": payload["label"], "error": (error[0][:100], error[1][:500])}
    raise ValueError("a record that is neither a value nor an error")


# ----------------------------------------------------------------------------- numbers


def as_float_array(value: Any, what: str, where: str = "") -> np.ndarray:
    """Your result as a float64 array, or a CheckFailure saying why it is not a number.

    Converting first means a comparison never trusts your object's own ``==``.
    """
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise CheckFailure(
            f"{what} returned {describe(value)}{' at ' + where if where else ''}, which is not "
            f"a number or an array of numbers ({error}). Return a float or a numpy array."
        ) from None
    return array


def numbers(value: Any, what: str, where: str) -> np.ndarray | list[np.ndarray]:
    """Your result by value: a float64 array, or a list of them for a tuple or list."""
    if isinstance(value, (tuple, list)):
        return [as_float_array(item, what, where) for item in value]
    return as_float_array(value, what, where)


def describe(value: Any) -> str:
    """A short repr of ``value`` and its type, for messages."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = "an object"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def fmt(x: Any) -> str:
    """A number or a small array, compactly."""
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    return np.array2string(array, precision=4, suppress_small=True, max_line_width=60)
