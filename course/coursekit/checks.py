"""Checks for the course's exercises: your code against numpy and finite differences.

Every expected value comes from the kit: values from numpy, derivatives from central finite
differences of the kit's own numpy function for that operation. Your code is only ever the
thing being checked, never the reference.

The rules that keep the checks fair and sharp (see DESIGN.md, "How exercises are checked"):

* float64 throughout; inputs drawn from each op's safe domain, with distinct values for
  different arguments (so swapped arguments show);
* the step is ``cbrt(eps) * max(1, |x|)``, where central differences are accurate to about
  1e-9 relative; results are compared with
  ``|got - expected| <= ATOL + RTOL * max(|got|, |expected|)``;
* shapes are checked before values, and a random upstream gradient (never all ones) is used
  for vector-Jacobian products, so a missing chain factor shows;
* a failure raises :class:`CheckFailure` with one sentence saying what is wrong, where, the
  expected and actual values side by side, a hint, and the seed that reproduces it;
* passing checks print nothing (nbgrader scores a test cell that writes to stderr as 0), so
  numpy warnings raised inside your code are silenced while it is checked.

``NotImplementedError`` from an unfinished exercise is passed through unchanged, so an
exercise you have not started says exactly that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from coursekit.core import (
    CheckFailure,
    ErrorHint,
    Probe,
    as_float_array,
    derivative_helper,
    describe,
    fmt,
    is_float_array,
    judgement,
    list_of,
    name_of,
    numbers,
    observe,
    one_of,
    probe,
)

#: Relative and absolute tolerance of every derivative check (stated once, used everywhere).
RTOL = 1e-5
ATOL = 1e-7
#: Relative and absolute tolerance for values computed in closed form (func against numpy).
VALUE_RTOL = 1e-9
VALUE_ATOL = 1e-12

_EPS = np.finfo(np.float64).eps
_STEP_SCALE = _EPS ** (1 / 3)

#: Named input domains: each maps a numpy Generator and a shape to float64 samples.
#: Kinks and singularities stay more than ten steps away.
DOMAINS: dict[str, Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]] = {
    "real": lambda rng, shape: rng.uniform(-3.0, 3.0, shape),
    "small": lambda rng, shape: rng.uniform(-1.5, 1.5, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 3.0, shape),
    "nonzero": lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 3.0, shape),
    "away_from_zero": lambda rng, shape: rng.choice([-1.0, 1.0], shape)
    * rng.uniform(0.1, 3.0, shape),
    "exponent": lambda rng, shape: rng.uniform(0.5, 3.0, shape),
}

_ORDINALS = ("first", "second", "third", "fourth", "fifth")


# ----------------------------------------------------------------------------- numbers


def step_size(x: np.ndarray) -> np.ndarray:
    """The central-difference step for each entry of ``x``: cbrt(eps) * max(1, |x|)."""
    return _STEP_SCALE * np.maximum(1.0, np.abs(x))


@derivative_helper("the kit's finite differences")
def finite_difference_partial(
    f: Callable[..., Any], inputs: Sequence[np.ndarray], index: int, upstream: np.ndarray | None
) -> np.ndarray:
    """d(sum(upstream * f(*inputs))) / d inputs[index] by central differences, entry by entry.

    With ``upstream=None`` the function is taken to be elementwise and every entry of the input
    is moved at once (one pair of evaluations), which gives the elementwise derivative.
    """
    inputs = [np.array(x, dtype=np.float64) for x in inputs]
    x = inputs[index]
    h = step_size(x)

    def at(shifted: np.ndarray) -> np.ndarray:
        args = list(inputs)
        args[index] = shifted
        return np.asarray(f(*args), dtype=np.float64)

    if upstream is None:
        return (at(x + h) - at(x - h)) / (2 * h)
    out = np.zeros_like(x)
    for position in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[position] += h[position]
        minus[position] -= h[position]
        out[position] = np.sum(upstream * (at(plus) - at(minus))) / (2 * h[position])
    return out


def close(got: np.ndarray, expected: np.ndarray, rtol: float = RTOL, atol: float = ATOL):
    """Entrywise ``|got - expected| <= atol + rtol * |expected|``.

    The scale comes from the expected value alone: a result of 1e308, inf or nan is never
    close to an ordinary expected value, however large it is."""
    with np.errstate(all="ignore"):
        difference = np.abs(np.asarray(got, dtype=np.float64) - expected)
        return difference <= atol + rtol * np.abs(np.asarray(expected, dtype=np.float64))


# ----------------------------------------------------------------------------- messages






def _where(names: Sequence[str], inputs: Sequence[Any]) -> str:
    return ", ".join(f"{n}={fmt(x)}" for n, x in zip(names, inputs))


def _first_mismatch(got: np.ndarray, expected: np.ndarray, ok: np.ndarray):
    position = tuple(int(i) for i in np.argwhere(~ok)[0]) if got.ndim else ()
    return got[position], expected[position], position


#: Ratios got/expected that name a typical bug on their own, even at a single number: half (a
#: path's contribution overwritten instead of added, or a lost factor 2) and twice.
_TELLING_FACTORS = {
    0.5: ("it is exactly half the expected value — a factor 2 is missing, or, if a value is "
          "used twice, one path's gradient overwrote the other's: add them (+=)"),
    2.0: ("it is exactly twice the expected value — a contribution is counted twice, or there "
          "is a factor 2 too many"),
}


def hint_for(got: np.ndarray, expected: np.ndarray, others: Sequence[np.ndarray],
              inputs: Sequence[np.ndarray] = (), names: Sequence[str] = ()) -> str:
    """Guess the bug behind a wrong derivative from how got relates to expected.

    ``inputs`` (with their ``names``), when given, let it recognise a factor that is missing
    and equals one of the inputs or its logarithm (``a ** b``'s exponent partial without ln a).
    """
    if np.all(close(got, -expected)) and np.any(np.abs(expected) > ATOL):
        return "the sign is flipped — check the sign"
    if np.all(np.abs(expected) <= ATOL) and np.any(np.abs(got) > ATOL):
        return ("the output does not depend on this input here (its derivative is 0) — at a "
                "max gate only the larger input gets the gradient, the other gets 0")
    for other in others:
        if other.shape == got.shape and np.all(close(got, other)):
            return (
                "it matches the derivative for another input — check the order of the inputs "
                "and of the partials you return"
            )
    if np.all(np.abs(got) <= ATOL):
        return "you return 0 — does this input really not affect the output?"
    significant = np.abs(expected) > 1e3 * ATOL
    for x, name in zip(inputs, names):  # a missing input says more than a ratio that fits it
        x = np.broadcast_to(np.asarray(x, dtype=np.float64), got.shape)
        if not np.all(significant) or np.any(np.abs(np.abs(x) - 1) < 0.05):
            continue  # a factor near ±1 (or ln near 0) would show nowhere
        if np.all(close(got * x, expected)):
            return f"a factor {name} is missing — multiply by {name}"
        if np.all(x > 0) and np.all(close(got * np.log(x), expected)):
            return (f"a factor ln {name} is missing — for a power with {name} as the base, "
                    f"write it as e^(exponent · ln {name}) before differentiating")
    if np.all(significant):
        for factor, text in _TELLING_FACTORS.items():
            if np.all(close(got, factor * expected)):
                return text
    ratio = got / np.where(expected == 0, np.nan, expected)
    if np.all(np.isfinite(ratio)) and np.allclose(ratio, ratio.flat[0]) and ratio.size > 1:
        return (
            f"it is off by a constant factor {ratio.flat[0]:.4g} — check the constants, and "
            "that you multiply by the upstream gradient where there is one"
        )
    return "work the derivative out on paper and compare"


# ----------------------------------------------------------------------------- calling


def array_hint(on_arrays: bool) -> ErrorHint:
    """The extra sentence for code that raised on numpy-array inputs."""

    def hint(type_name: str, message: str) -> str:
        if not on_arrays:
            return ""
        if "truth value" in message:
            return (" It failed on numpy-array inputs: an `if` or `and` on an array is "
                    "ambiguous; use np.where or a boolean mask such as (x > 0) instead.")
        if type_name == "ValueError":
            return (" The shapes do not fit together: write down the shape of every array in "
                    "your formula and check that each product or sum is defined.")
        return (" It failed on numpy-array inputs: use numpy functions (np.exp, np.log, ...) "
                "rather than the math module so it works elementwise.")

    return hint


def own_value_hint(hint: ErrorHint) -> ErrorHint:
    """`hint`, plus a sentence for ``grads`` that reads ``self.value`` where no node was built
    (notebook 03: ``grads`` runs inside ``forward_pass``, before the value is set)."""

    def with_value(type_name: str, message: str) -> str:
        extra = hint(type_name, message)
        if type_name == "AttributeError" and "'value'" in message:
            extra += (" Here `grads` is called while the node is being made, before "
                      "`self.value` exists: compute the derivative from the inputs instead.")
        return extra

    return with_value


def instance(op: type, inputs: Sequence[Any] | None = None) -> Any:
    """An instance of an op class on which func/grads/vjp can be called.

    Without `inputs` the constructor is not run (in notebook 03 it runs your `forward_pass`).
    With `inputs` the node is built as an expression builds it, ``op(*inputs)``, so that
    `grads` may read what the constructor sets, such as ``self.value`` in notebook 04.
    """
    if not isinstance(op, type):
        raise CheckFailure(f"expected an op class such as `_mul`, got {describe(op)}")
    if inputs is not None:
        return op(*inputs)
    return object.__new__(op)


def partials(result: Any, n: int, what: str, where: str) -> list[np.ndarray]:
    """Your tuple of partial derivatives (one per input) as float64 arrays."""
    if isinstance(result, np.ndarray) and result.ndim > 0 and n > 1 and len(result) == n:
        return [as_float_array(item, what, where) for item in result]
    if n == 1 and not isinstance(result, (tuple, list)):
        raise CheckFailure(
            f"{what} returned {describe(result)}; it must return a tuple with one partial "
            f"derivative per input, e.g. `return (d,)` for one input (at {where})."
        )
    if not isinstance(result, (tuple, list)):
        raise CheckFailure(
            f"{what} returned {describe(result)}; it must return a tuple with one partial "
            f"derivative per input ({n} here; at {where})."
        )
    if len(result) != n:
        raise CheckFailure(
            f"{what} returned {len(result)} partial derivative(s); the op has {n} input(s), "
            f"so return one per input, in the order of the inputs (at {where})."
        )
    return [as_float_array(item, what, where) for item in result]


# ----------------------------------------------------------------------------- checks


@judgement
def check_close(
    got: Any,
    expected: Any,
    what: str,
    where: str = "",
    hint: str = "",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Check a result against its expected value: shape first, then every entry.

    A judgement: it runs where the expected value is (your Jupyter, or the grader's own
    process), never in the grader's kernel (see :mod:`coursekit.core`).
    """
    got = as_float_array(got, what, where)
    expected = np.asarray(expected, dtype=np.float64)
    at = f" at {where}" if where else ""
    if got.shape != expected.shape and got.size != 1:
        raise CheckFailure(
            f"{what} has shape {got.shape}{at}; expected shape {expected.shape}."
            + (f" {hint}" if hint else ""), hint=hint
        )
    got = np.broadcast_to(got, expected.shape)
    ok = close(got, expected, rtol, atol)
    if not np.all(ok):
        g, e, position = _first_mismatch(got, expected, ok)
        entry = f" (entry {position})" if position else ""
        if not np.isfinite(g):
            hint = hint or "your result is not finite — look for a division by zero or an overflow"
        raise CheckFailure(
            f"{what} is wrong{at}{entry}: expected {fmt(e)}, got {fmt(g)}"
            + (f" — {hint}" if hint else ""), hint=hint
        )


def sample_inputs(
    domains: Sequence[str], rng: np.random.Generator, shape: tuple[int, ...] = ()
) -> list[np.ndarray]:
    """One float64 sample per argument, each from its named domain, pairwise distinct."""
    while True:
        inputs = [np.asarray(DOMAINS[d](rng, shape), dtype=np.float64) for d in domains]
        distinct = all(
            np.all(np.abs(a - b) > 0.1) and np.all(np.abs(np.abs(a) - np.abs(b)) > 0.1)
            for i, a in enumerate(inputs)
            for b in inputs[i + 1 :]
        )
        if distinct:
            return inputs


def sample_points(
    domains: Sequence[str],
    names: Sequence[str],
    seeds: Sequence[int],
    shapes: Sequence[tuple[int, ...]],
) -> Iterator[tuple[list[np.ndarray], list[Any], str]]:
    """For each seed, then each shape: the sampled inputs, the arguments to call with (floats
    for shape ``()``, else the arrays) and the location text used in messages."""
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for shape in shapes:
            inputs = sample_inputs(domains, rng, shape)
            args = [float(x) for x in inputs] if shape == () else inputs
            yield inputs, args, f"{_where(names, inputs)} (seed {seed})"


@judgement
def check_op(
    op: type,
    reference: Callable[..., Any],
    domains: Sequence[str],
    *,
    names: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    shapes: Sequence[tuple[int, ...]] = ((), (3,), (2, 3)),
    check_grads: bool = True,
    construct: bool = False,
) -> None:
    """Check a scalar op class (``func`` and ``grads``) against numpy and finite differences.

    ``reference`` is the kit's numpy function for the op (e.g. ``np.multiply``); ``domains``
    names one input domain per argument (see :data:`DOMAINS`). Each seed draws inputs of every
    shape in ``shapes`` (floats first, then numpy arrays, where an op must work elementwise).
    ``func`` must match ``reference`` and each partial in ``grads`` must match the central
    difference of ``reference`` with respect to that input.

    ``construct=True`` builds each node through its constructor from the sampled inputs
    (notebook 04's ``AutogradValue``, whose constructor only records and computes the value),
    so a ``grads`` that reuses ``self.value`` is checked as the engine runs it.
    """
    name = name_of(op, "the op")
    names = list(names or ("a", "b", "c")[: len(domains)])
    n = len(domains)
    for inputs, args, where in sample_points(domains, names, seeds, shapes):
        hint = array_hint(bool(inputs[0].shape))
        if not construct:
            hint = own_value_hint(hint)
        what = f"`{name}.func`"
        value = observe(f"func at {where}",
                        Probe(op_func, op=op, args=args, construct=construct, what=what,
                              where=where), what, where, hint)
        check_close(value, reference(*inputs), what, where,
                    rtol=VALUE_RTOL * 1e3, atol=VALUE_ATOL * 1e3)
        if not check_grads:
            continue
        what = f"`{name}.grads`"
        got = observe(f"grads at {where}",
                      Probe(op_grads, op=op, args=args, n=n, construct=construct, what=what,
                            where=where), what, where, hint)
        _judge_partials(got, reference, inputs, names, what, where)


@probe(returns=one_of(is_float_array, list_of(is_float_array)))
def op_func(op: type, args: list, construct: bool, what: str, where: str) -> Any:
    """``op.func(*args)`` by value, on a node built from ``args`` when ``construct``."""
    return numbers(instance(op, args if construct else None).func(*args), what, where)


@probe(returns=list_of(is_float_array))
def op_grads(op: type, args: list, n: int, construct: bool, what: str, where: str) -> Any:
    """``op.grads(*args)`` as ``n`` partials, on a node built from ``args`` when ``construct``."""
    return partials(instance(op, args if construct else None).grads(*args), n, what, where)


@judgement
def _judge_partials(got: Sequence[np.ndarray], reference: Callable[..., Any],
                    inputs: Sequence[np.ndarray], names: Sequence[str], what: str,
                    where: str) -> None:
    expected = [finite_difference_partial(reference, inputs, i, None) for i in range(len(inputs))]
    for i, (got_array, exp) in enumerate(zip(got, expected)):
        if got_array.shape not in ((), exp.shape):
            raise CheckFailure(
                f"{what} returns a partial of shape {got_array.shape} for the "
                f"{_ORDINALS[i]} input ({names[i]}) at {where}; expected a number or "
                f"shape {exp.shape}, like the input."
            )
        got_array = np.broadcast_to(got_array, exp.shape)
        if not np.all(close(got_array, exp)):
            others = [e for j, e in enumerate(expected) if j != i]
            check_close(got_array, exp, f"{what} for the {_ORDINALS[i]} input ({names[i]})",
                        where, hint_for(got_array, exp, others, inputs, names))


@judgement
def check_vjp(
    op: type,
    reference: Callable[..., Any],
    shapes: Sequence[tuple[int, ...]],
    domains: Sequence[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1),
    kwargs: dict[str, Any] | None = None,
) -> None:
    """Check an array op's ``vjp(g, *inputs)`` against finite differences of ``reference``.

    ``shapes`` gives one input shape per argument (broadcasting pairs such as (3, 4) and (4,)
    are the point). A random upstream gradient ``g`` of the output's shape is drawn; the
    gradient for each input must have that input's shape and equal
    d sum(g * reference(*inputs)) / d input.
    """
    name = name_of(op, "the op")
    domains = list(domains or ["real"] * len(shapes))
    names = list(names or ("a", "b", "c")[: len(shapes)])
    kwargs = kwargs or {}

    def f(*xs):
        return reference(*xs, **kwargs)

    # The output's shape, from inputs of ones: the reference is never evaluated at the
    # sampled inputs where nothing is judged.
    out_shape = np.shape(f(*[np.ones(s) for s in shapes]))
    for seed in seeds:
        rng = np.random.default_rng(seed)
        inputs = [np.asarray(DOMAINS[d](rng, s), dtype=np.float64) for d, s in zip(domains, shapes)]
        upstream = rng.normal(size=out_shape)
        where = (
            f"input shapes {', '.join(f'{n}{tuple(x.shape)}' for n, x in zip(names, inputs))}"
            f"{''.join(f', {k}={v!r}' for k, v in kwargs.items())}, seed {seed}"
        )
        what = f"`{name}.vjp`"
        got = observe(f"vjp with {where}",
                      Probe(op_vjp, op=op, upstream=upstream, inputs=inputs, attributes=kwargs,
                            what=what, where=where), what, where, array_hint(True))
        expected = [finite_difference_partial(f, inputs, i, upstream) for i in range(len(inputs))]
        ones = np.ones(out_shape)  # the vjp a `g`-less answer returns, for its hint
        for i, (got_array, exp) in enumerate(zip(got, expected)):
            if got_array.shape != exp.shape:
                reduce_hint = (
                    " The input was broadcast: sum the gradient over the broadcast axes "
                    "(and keep size-1 axes) to get back to the input's shape."
                    if got_array.size > exp.size
                    else ""
                )
                raise CheckFailure(
                    f"{what} returns a gradient of shape {got_array.shape} for the "
                    f"{_ORDINALS[i]} input ({names[i]}) with {where}; it must have the input's "
                    f"shape {exp.shape}.{reduce_hint}"
                )
            hint = ""
            if not np.all(close(got_array, exp)):
                others = [e for j, e in enumerate(expected) if j != i]
                hint = hint_for(got_array, exp, others)
                if np.all(close(got_array, finite_difference_partial(f, inputs, i, ones))):
                    hint = ("it is the gradient for an upstream gradient of all ones — multiply "
                            "by the upstream gradient `g` that vjp receives")
            check_close(got_array, exp, f"{what} for the {_ORDINALS[i]} input ({names[i]})",
                        where, hint)


@probe(returns=list_of(is_float_array))
def op_vjp(op: type, upstream: np.ndarray, inputs: list, attributes: dict, what: str,
           where: str) -> Any:
    """``op.vjp(upstream, *inputs)`` on a node with ``attributes`` set (``axis`` of a sum)."""
    node = instance(op)
    for key, value in attributes.items():
        setattr(node, key, value)
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    return partials(node.vjp(np.array(upstream, dtype=np.float64), *arrays), len(arrays),
                    what, where)


@probe(returns=list_of(is_float_array))
def call_partials(function: Any, args: list, n: int, what: str, where: str) -> Any:
    """``function(*args)`` as ``n`` partial derivatives."""
    return partials(function(*args), n, what, where)


@probe(returns=is_float_array)
def call_value(function: Any, args: list, what: str, where: str) -> Any:
    """``function(*args)`` as a float64 array."""
    return as_float_array(function(*args), what, where)


@judgement
def check_gradient(
    student: Callable[..., Any],
    f: Callable[..., Any],
    point: Sequence[float],
    names: Sequence[str],
    what: str,
) -> None:
    """Check a hand-derived gradient of a scalar function ``f`` at ``point``.

    ``student(*point)`` must return one partial derivative per argument, in the order of
    ``names``; each is compared with the central difference of the kit's ``f``.
    """
    inputs = [np.asarray(x, dtype=np.float64) for x in point]
    where = _where(names, inputs)
    got = observe(f"gradient at {where}",
                  Probe(call_partials, function=student, args=[float(x) for x in point],
                        n=len(inputs), what=what, where=where), what, where)
    expected = [finite_difference_partial(f, inputs, i, None) for i in range(len(inputs))]
    for i, (got_array, exp) in enumerate(zip(got, expected)):
        others = [e for j, e in enumerate(expected) if j != i]
        hint = hint_for(np.broadcast_to(got_array, exp.shape), exp, others, inputs, names) if (
            got_array.shape in ((), exp.shape)
            and not np.all(close(np.broadcast_to(got_array, exp.shape), exp))
        ) else ""
        check_close(got_array, exp, f"{what}: d/d{names[i]}", where, hint)


@judgement
def check_derivative(
    student: Callable[[Any], Any],
    f: Callable[[np.ndarray], np.ndarray],
    domain: str,
    what: str,
    seeds: Sequence[int] = (0, 1, 2),
) -> None:
    """Check a hand-written derivative ``student(x)`` of the kit's elementwise ``f``.

    It is tried on floats and on numpy arrays from ``domain``.
    """
    for (x,), (arg,), where in sample_points([domain], ["x"], seeds, ((), (4,))):
        got = observe(f"derivative at {where}",
                      Probe(call_value, function=student, args=[arg], what=what, where=where),
                      what, where, array_hint(bool(x.shape)))
        expected = finite_difference_partial(f, [x], 0, None)
        hint = ""
        if got.shape in ((), expected.shape):
            b = np.broadcast_to(got, expected.shape)
            if not np.all(close(b, expected)):
                hint = hint_for(b, expected, [])
        check_close(got, expected, what, where, hint)


@judgement
def check_values(
    student: Callable[..., Any],
    reference: Callable[..., Any],
    points: Sequence[Sequence[Any]],
    what: str,
    *,
    rtol: float = VALUE_RTOL,
    atol: float = VALUE_ATOL,
) -> None:
    """Check ``student(*args)`` against the kit's ``reference(*args)`` for each ``args`` in
    ``points`` (values and shapes), e.g. ``check_values(square, np.square, [(3.0,)], "square")``.

    The general-purpose check for an exercise that computes a value; a test cell written with
    it is decided by the grader outside the student's kernel like every other check.
    """
    for args in points:
        where = ", ".join(fmt(a) for a in args)
        got = observe(f"value at ({where})",
                      Probe(call_value, function=student, args=list(args), what=f"`{what}`",
                            where=where),
                      f"`{what}`", where, array_hint(any(np.ndim(a) for a in args)))
        check_close(got, reference(*args), f"`{what}`", where, rtol=rtol, atol=atol)
