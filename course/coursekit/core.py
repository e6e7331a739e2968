"""How every check calls your code, and how the grader scores it without trusting the kernel.

A check has two halves. The *probe* calls your code on inputs the check chose and turns what
came back into plain data (numbers, arrays, strings, lists): it is a :class:`Probe`, a kit
function (marked with :func:`probe`) and the arguments to call it with. The *judgement*
compares that data with expected values the kit computes itself (numpy, finite differences).

In your own Jupyter both halves run in your kernel, one after the other, and a wrong answer
raises :class:`CheckFailure` at once. When the grader runs your notebook, your kernel never runs
a test cell: the grader runs the master's test cell in its own process, where your names are
:class:`StudentCode` stand-ins, and each probe becomes one *request* to your kernel (which kit
function, which of your names, the inputs for this call; see :mod:`coursekit.answer`). Your
kernel sends back only data, read under the same rules as here (plain JSON, sizes bounded,
non-finite numbers refused unless the probe expects them), and the judgement runs in the
grader. So your kernel learns the inputs of each call and nothing else: no test source, no
seed, no expected value, no verdict.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

#: The display-output type of the kernel's answer to one grader request.
ANSWER_MIME = "application/vnd.coursekit.answer+json"
#: Largest array (entries) an answer may carry, and deepest nesting of its data.
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
    """The kernel's answer to a check's request is missing, doubled, malformed or not the
    data the check asked for."""


class StudentCode:
    """Stands for a name the student's notebook defines, while the grader runs a test cell.

    The grader runs none of the student's code itself (only the kernel does, on request), so
    anything other than handing this to a check (an attribute, a call, arithmetic) is a mistake
    in the test cell and says so.
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
    """The name to use for ``obj`` in messages: the test cell's name for it in the grader."""
    if isinstance(obj, StudentCode):
        return obj.__name__
    name = getattr(obj, "__name__", None)
    return name if isinstance(name, str) else fallback


# ----------------------------------------------------------------------------- probes


Shape = Callable[[Any], bool]


def is_float_array(value: Any) -> bool:
    """A float64 array (a number comes back as one of shape ())."""
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def list_of(item: Shape) -> Shape:
    """A list whose every item has the shape ``item``."""
    return lambda value: isinstance(value, list) and all(item(v) for v in value)


def one_of(*shapes: Shape) -> Shape:
    """Any of ``shapes``."""
    return lambda value: any(shape(value) for shape in shapes)


def items(*shapes: Shape) -> Shape:
    """A list of exactly these items, in order."""
    return lambda value: (isinstance(value, list) and len(value) == len(shapes)
                          and all(shape(v) for shape, v in zip(shapes, value)))


def is_int_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "i"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def anything(value: Any) -> bool:
    return True


def probe(function: Callable[..., Any] | None = None, *,
          returns: Shape = anything) -> Callable[..., Any]:
    """Mark a coursekit function as a probe: the grader may ask a kernel to run it.

    A probe takes your objects and plain data as keyword arguments, calls your code, and
    returns plain data (see :func:`encode`) of the shape ``returns`` accepts; an answer of
    any other shape fails its check before anything is judged. A probe judges nothing and
    knows no expected value.
    """
    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        if not function.__module__.startswith("coursekit."):
            raise ValueError(f"{function.__qualname__}: probes live in coursekit's modules")
        function.__coursekit_probe__ = True
        function.__coursekit_returns__ = returns
        return function

    return mark(function) if function is not None else mark


class Probe:
    """One call of a probe function: ``Probe(function, name=value, ...)``.

    ``finite=False`` (a keyword of the Probe, not of the function) lets its data hold nan and
    infinities; otherwise a non-finite number anywhere in the data fails the check.
    """

    def __init__(self, probe_function: Callable[..., Any], /, *, finite: bool = True,
                 **arguments: Any):
        if not getattr(probe_function, "__coursekit_probe__", False):
            raise ReplayMisuse(f"{getattr(probe_function, '__qualname__', probe_function)!r} "
                               "is not a coursekit probe (decorate it with coursekit.core.probe)")
        self.function = probe_function
        self.arguments = arguments
        self.finite = finite

    @property
    def address(self) -> str:
        return f"{self.function.__module__}:{self.function.__qualname__}"

    def run(self) -> Any:
        return self.function(**self.arguments)

    def request(self) -> dict:
        """The request as plain JSON: the probe's address, your names, the encoded inputs."""
        args = {}
        for key, value in self.arguments.items():
            try:
                args[key] = encode_argument(MESSAGE_ONLY.get(key, value))
            except (TypeError, ValueError) as error:
                raise ReplayMisuse(f"the argument {key} of {self.address} cannot be sent to "
                                   f"the kernel ({error}): pass the student's names and plain "
                                   "data only") from None
        return {"probe": self.address, "args": args}

    def accepts(self, data: Any) -> bool:
        """Whether ``data`` has the shape this probe returns."""
        return bool(getattr(self.function, "__coursekit_returns__", anything)(data))


#: Probe arguments that only word a message, and what a kernel gets for them instead: the
#: location text of a check names its seed, which a kernel has no need to know.
MESSAGE_ONLY = {"where": "the inputs the grader sent"}


def encode_argument(value: Any) -> Any:
    """A probe argument as JSON: a stand-in for your code becomes a reference to its name."""
    if isinstance(value, StudentCode):
        return {"~name": value.__name__}
    return encode(value)


Asker = Callable[[dict], dict]
_ASK: Asker | None = None


def mode() -> str:
    """'grader' while the grader runs a test cell and asks a kernel for each probe's data,
    otherwise 'interactive' (your own Jupyter: probes call your code in this process)."""
    return "grader" if _ASK is not None else "interactive"


@contextlib.contextmanager
def asking(ask: Asker) -> Iterator[None]:
    """Send every probe to ``ask(request) -> answer`` instead of running it here.

    The answer is ``{"value": json}`` or ``{"error": [type name, message]}``, as
    :func:`coursekit.answer.answer` makes it; whatever it holds is checked here."""
    global _ASK
    if _ASK is not None:
        raise RuntimeError("the grader's asking does not nest")
    _ASK = ask
    try:
        yield
    finally:
        _ASK = None


# ----------------------------------------------------------------------------- observing


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """numpy warnings and floating-point errors silenced (a test cell must not write stderr)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


ErrorHint = Callable[[str, str], str]


_PROBING = [0]  # how many probes are running now (in this process)

#: Packages whose code, run inside a probe, means the answer came from a library rather than
#: the student's own formula: top-level module -> what the report calls it.
LIBRARIES = {"autograd": "HIPS autograd", "jax": "JAX", "torch": "PyTorch",
             "tensorflow": "TensorFlow", "autodiff": "the reference package autodiff",
             "sympy": "SymPy"}
#: Code objects of helpers that compute derivatives (the kit's, numpy's): code -> name.
HELPERS: dict[Any, str] = {
    getattr(np.gradient, "_implementation", np.gradient).__code__: "np.gradient"}
#: The most names one answer may report.
MAX_USES = 8


def derivative_helper(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a kit function that computes derivatives: an answer whose code calls it inside a
    probe is listed in the instructor's report as computed with ``name``."""
    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        HELPERS[function.__code__] = name
        return function
    return mark


def _watching(uses: set) -> Callable[..., Any]:
    """A profile function noting each library or helper (above) called while a probe runs."""
    def profile(frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        name = HELPERS.get(frame.f_code)
        if name is None:
            module = frame.f_globals.get("__name__")
            name = LIBRARIES.get(module.partition(".")[0]) if isinstance(module, str) else None
        if name is not None and len(uses) < MAX_USES:
            uses.add(name)
    return profile


@contextlib.contextmanager
def inside_probe() -> Iterator[None]:
    """Mark the code that runs now as a probe's (the student's code under test)."""
    _PROBING[0] += 1
    try:
        yield
    finally:
        _PROBING[0] -= 1


def judgement(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a check or a judgement: it refuses to run inside a probe, so the code under test
    cannot try candidate answers on the kit's own judgement and keep one it accepts."""

    # (no closure: the wrapper is a plain function whose one default is the judgement)
    def guarded(*args: Any, _judgement: Callable[..., Any] = function, **kwargs: Any) -> Any:
        if _PROBING[0]:
            raise CheckFailure(
                f"{_judgement.__name__} was called from inside the code it checks; a check "
                "judges your code from the outside, your code cannot call it",
                hint="the code under test called a check")
        return _judgement(*args, **kwargs)

    return functools.wraps(function)(guarded)


def observe(label: str, probe: Probe | Callable[[], Any], what: str, where: str,
            hint: ErrorHint | None = None) -> Any:
    """Run ``probe`` (which calls your code and returns plain data) and return its data.

    ``label`` names the step in messages. If your code raises, the failure is explained with
    ``what`` (the code that was called), ``where`` (the inputs) and ``hint(type name,
    message)``; ``NotImplementedError`` passes through unchanged. The data is the same here and
    in the grader: encoded, decoded and checked (:func:`decode`, non-finite numbers) both ways.
    """
    if not isinstance(probe, Probe):
        if _ASK is not None:  # a check written with a closure: the grader cannot send it
            raise ReplayMisuse(f"the check step '{label}' calls the student's code through a "
                               "closure, which the grader cannot send to a kernel; write its "
                               "probe as a coursekit.core.probe function and pass a Probe")
        probe = _Closure(probe)
    if _ASK is not None:
        answer = _ASK(probe.request())
    else:
        try:
            with quietly(), inside_probe():
                data = probe.run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: BLE001  (student code may raise anything)
            if isinstance(error, (NotImplementedError, CheckFailure)):
                raise
            raise_explained(type(error).__name__, _message(error), what, where, hint,
                            cause=error)
        answer = encoded_answer(data)
    if not isinstance(answer, dict) or set(answer) - {"uses"} not in ({"value"}, {"error"}):
        raise RecordError(f"the answer to '{label}' is neither a value nor an error")
    _note_uses(answer.get("uses", []))
    if "error" in answer:
        error = answer["error"]
        if not (isinstance(error, (list, tuple)) and len(error) == 2
                and all(isinstance(part, str) for part in error)):
            raise RecordError(f"the answer to '{label}' is a malformed error")
        raise_explained(error[0][:100], error[1][:500], what, where, hint)
    try:
        data = decode(answer["value"])
    except (ValueError, TypeError, RecursionError) as error:
        raise RecordError(f"the answer to '{label}' is not plain data ({error})") from None
    if not probe.accepts(data):
        raise RecordError(f"the answer to '{label}' is not the kind of data the check asked "
                          f"for ({describe(data)})")
    if probe.finite and not all_finite(data):
        raise CheckFailure(
            f"{what} gave a value that is not a finite number (nan, inf or -inf) at {where}; "
            "every result here should be an ordinary number. Look for a division by zero, "
            "the log of 0 or of a negative number, or an exp that overflows.",
            hint="a result is nan or infinite")
    return data


_USES: set = set()  # what the answers to this test cell's requests said they used


def _note_uses(uses: Any) -> None:
    if not (isinstance(uses, list) and len(uses) <= MAX_USES):
        return
    known = set(LIBRARIES.values()) | set(HELPERS.values())
    _USES.update(u for u in uses if isinstance(u, str) and u in known)


def noted_uses() -> list[str]:
    """What the answers since the last call said they computed with (then forgets them)."""
    found = sorted(_USES)
    _USES.clear()
    return found


class _Closure:
    """A probe written as a closure (``lambda: ...``): it runs in your own Jupyter only."""

    finite = True

    @staticmethod
    def accepts(data: Any) -> bool:
        return True

    def __init__(self, function: Callable[[], Any]):
        self.run = function


def run_probe(run: Callable[[], Any]) -> dict:
    """Run a probe: its data encoded, or what it raised, as an answer (the kernel's side).

    The answer also says (``uses``) which library or derivative helper the code called, if
    any: the instructor's report lists such answers (they pass when their numbers are right).
    """
    uses: set = set()
    previous = sys.getprofile()
    try:
        with quietly(), inside_probe():
            sys.setprofile(_watching(uses))
            try:
                data = run()
            finally:
                sys.setprofile(previous)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001  (student code may raise anything)
        answer = {"error": [type(error).__name__, _message(error)]}
    else:
        answer = encoded_answer(data)
    if uses:
        answer["uses"] = sorted(uses)
    return answer


def encoded_answer(data: Any) -> dict:
    """``{"value": encode(data)}``, or an error answer for data that cannot be encoded."""
    try:
        return {"value": encode(data)}
    except (TypeError, ValueError, RecursionError) as error:
        return {"error": ["TypeError", f"the probe's data cannot be sent: {error}"]}


def all_finite(data: Any) -> bool:
    """True when every float in ``data`` (numbers, float arrays, lists) is finite."""
    if isinstance(data, float):
        return math.isfinite(data)
    if isinstance(data, np.ndarray):
        return data.dtype.kind != "f" or bool(np.all(np.isfinite(data)))
    if isinstance(data, list):
        return all(all_finite(item) for item in data)
    if isinstance(data, dict):
        return all(all_finite(item) for item in data.values())
    return True


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
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"~d": [[key, encode(item)] for key, item in value.items()]}
    raise TypeError(f"cannot record {type(value).__name__}")


def decode(data: Any, depth: int = 0) -> Any:
    """The inverse of :func:`encode`; raises ValueError for anything it would not produce."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or isinstance(data, bool):
        return data
    if isinstance(data, str):
        if len(data) > 100_000:
            raise ValueError("a string longer than any probe sends")
        return data
    if isinstance(data, int):
        if not -2**63 <= data < 2**63:
            raise ValueError("an integer larger than any probe sends")
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        return [decode(item, depth + 1) for item in data]
    if isinstance(data, dict) and list(data) == ["~f"]:
        if data["~f"] not in ("nan", "inf", "-inf"):
            raise ValueError("bad number")
        return float(data["~f"])
    if isinstance(data, dict) and list(data) == ["~d"] and isinstance(data["~d"], list):
        pairs = data["~d"]
        if not all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                   for pair in pairs):
            raise ValueError("bad mapping")
        return {key: decode(item, depth + 1) for key, item in pairs}
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
