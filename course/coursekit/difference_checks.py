"""Checks for notebook 01: your finite differences against known derivatives.

A difference quotient is only an approximation, so a check must say how good it has to be.
Two things are checked:

* accuracy: with a sensible step, the result matches the exact derivative (of sin, exp, x**3,
  whose derivatives are known in closed form);
* order: with a large step the error must look like the formula's leading error term,
  ``h * f''(x) / 2`` for a forward difference and ``h**2 * f'''(x) / 6`` for a central one.
  That is what tells a forward difference from a central one (both are "accurate" for small h).

Passing checks print nothing; a failure raises :class:`coursekit.checks.CheckFailure` with the
input, the expected and actual values, and a hint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from coursekit.checks import CheckFailure, array_hint, as_float_array, check_close, close
from coursekit.core import (
    Probe,
    is_float_array,
    items,
    judgement,
    observe,
    probe,
)

#: Functions with known derivatives: name -> (f, f', f'', f''').
KNOWN: dict[str, tuple[Callable, Callable, Callable, Callable]] = {
    "sin": (np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    "exp": (np.exp, np.exp, np.exp, np.exp),
    "x**3": (lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, lambda x: 6 + 0 * x),
}


def _points(seed: int, n: int = 3) -> np.ndarray:
    """Seeded points in [-2, 2] whose second and third derivatives (above) are not tiny."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < n:
        x = rng.uniform(-2.0, 2.0)
        if abs(np.sin(x)) > 0.3 and abs(np.cos(x)) > 0.3 and abs(x) > 0.3:
            points.append(x)
    return np.array(points)


#: Formulas students write by mistake, with what to tell them: (quotient, hint).
MISTAKES: dict[str, list[tuple[Callable, str]]] = {
    "forward_difference": [
        (lambda f, x, h: (f(x) - f(x + h)) / h, "the sign is flipped: f(x + h) comes first"),
        (lambda f, x, h: (f(x + h) - f(x)) / (2 * h), "divide by h, not 2h"),
    ],
    "central_difference": [
        (lambda f, x, h: (f(x + h) - f(x)) / h,
         "that is the forward difference; use f(x + h) and f(x - h)"),
        (lambda f, x, h: (f(x + h) - f(x - h)) / h,
         "the points are 2h apart, so divide by 2h, not h"),
        (lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h),
         "the sign is flipped: f(x + h) comes first"),
    ],
}


def _check_accuracy(student: Callable, name: str, seeds: Sequence[int], h: float, rtol: float):
    what = f"`{name}`"
    for seed in seeds:
        for fname in KNOWN:  # the derivatives are looked up only to judge
            f = KNOWN[fname][0]
            for x in _points(seed):
                where = f"f={fname}, x={x:.6g}, h={h:g} (seed {seed})"
                got = observe(f"accuracy at {where}",
                              Probe(difference_at, student=student, fname=fname, x=float(x),
                                    h=h, what=what, where=where), what, where)
                df = KNOWN[fname][1]
                hint = "compare your formula with the one in the text"
                value = float(got) if got.shape == () else None
                for mistake, why in MISTAKES.get(name, []):
                    if value is not None and np.isclose(value, mistake(f, x, h), rtol=1e-9):
                        hint = why
                        break
                check_close(got, df(x), what, where, hint, rtol=rtol, atol=1e-9)


def _check_order(
    student: Callable, name: str, seeds: Sequence[int], order: int, wrong_order_hint: str
) -> None:
    """The error at a large step must match the leading error term of the formula."""
    for seed in seeds:
        for fname in KNOWN:
            for x in _points(seed, 2):
                for h in (1e-2, 1e-3):
                    where = f"f={fname}, x={x:.6g}, h={h:g} (seed {seed})"
                    got = observe(
                        f"order at {where}",
                        Probe(difference_at, student=student, fname=fname, x=float(x), h=h,
                              what=f"`{name}`", where=where),
                        f"`{name}`", where)
                    _, df, d2f, d3f = KNOWN[fname]
                    if got.shape != ():
                        raise CheckFailure(
                            f"`{name}` returned shape {got.shape} at {where}; for a float x it "
                            "must return a single number."
                        )
                    error = float(got) - df(x)
                    if order == 1:
                        predicted, term = h * d2f(x) / 2, "h·f''(x)/2"
                    else:
                        predicted, term = h**2 * d3f(x) / 6, "h²·f'''(x)/6"
                    if not abs(error - predicted) <= 0.05 * abs(predicted):
                        hint = ""
                        if abs(error) < 0.05 * abs(predicted):
                            hint = wrong_order_hint
                        elif order == 2 and abs(error - h * d2f(x) / 2) < 0.05 * abs(h * d2f(x)):
                            hint = "that is a forward difference's error; use f(x+h) and f(x-h)"
                        elif abs(error + predicted) < 0.05 * abs(predicted):
                            hint = "the error has the wrong sign — step forward, to x + h"
                        raise CheckFailure(
                            f"`{name}` has the wrong error at {where}: a correct "
                            f"{'forward' if order == 1 else 'central'} difference is off from "
                            f"the exact derivative {df(x):.8g} by about {term} = "
                            f"{predicted:.3g}, yours is off by {error:.3g}"
                            + (f" — {hint}" if hint else " — check the formula and the step h")
                        )


@probe(returns=is_float_array)
def difference_at(student: Callable, fname: str, x: Any, h: float, what: str,
                  where: str) -> np.ndarray:
    """``student(f, x, h)`` for the kit's function named ``fname`` (see :data:`KNOWN`)."""
    return as_float_array(student(KNOWN[fname][0], x, h), what, where)


@judgement
def check_forward_difference(student: Callable, seeds: Sequence[int] = (0, 1)) -> None:
    """``student(f, x, h)`` must be the forward difference (f(x+h) - f(x)) / h."""
    _check_accuracy(student, "forward_difference", seeds, h=1e-7, rtol=1e-5)
    _check_order(
        student, "forward_difference", seeds, 1,
        "your error is far smaller than a forward difference's, so this looks like a central "
        "difference; use only f(x + h) and f(x)",
    )


@judgement
def check_central_difference(student: Callable, seeds: Sequence[int] = (0, 1)) -> None:
    """``student(f, x, h)`` must be the central difference (f(x+h) - f(x-h)) / (2h)."""
    _check_accuracy(student, "central_difference", seeds, h=1e-5, rtol=1e-8)
    _check_order(
        student, "central_difference", seeds, 2,
        "your error is smaller than even a central difference's — are you using the step h "
        "you were given?",
    )


@judgement
def check_elementwise(student: Callable, name: str, h: float, seed: int = 0) -> None:
    """``student(f, x, h)`` must also work on a numpy array x, entry by entry."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(2, 3))
    where = f"f=sin, x of shape (2, 3), h={h:g} (seed {seed})"
    got = observe(f"elementwise at {where}",
                  Probe(difference_at, student=student, fname="sin", x=x, h=h,
                        what=f"`{name}`", where=where),
                  f"`{name}`", where, array_hint(True))
    check_close(
        got, np.cos(x), f"`{name}`", where,
        "it should work entry by entry when x is an array", rtol=1e-5, atol=1e-7,
    )


# --------------------------------------------------------------------------- gradients


def _test_functions(rng: np.random.Generator, shape: tuple[int, ...]):
    """(name, w) of each test function for arrays of ``shape`` (w: its weights). The function
    itself is :func:`sample_function`; the exact gradients, :func:`_exact_gradient`, are computed
    only where a check judges."""
    w = rng.normal(size=shape)
    first, last = (0,) * len(shape), tuple(s - 1 for s in shape)
    yield "sum(x**2)", w
    yield "sum(w*x) + sum(x**3)/3", w
    if shape != () and first != last:
        yield "x[first]*x[last] + sin(x[first])", w


def sample_function(fname: str, w: np.ndarray) -> Callable[[np.ndarray], Any]:
    """The test function named ``fname`` (weights ``w``): an array to a float."""
    first, last = (0,) * w.ndim, tuple(s - 1 for s in w.shape)
    if fname == "sum(x**2)":
        return lambda x: np.sum(x**2)
    if fname.startswith("sum(w*x)"):
        return lambda x: float(np.sum(w * x) + np.sum(x**3) / 3)
    return lambda x: float(x[first] * x[last] + np.sin(x[first]))


def _exact_gradient(fname: str, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The gradient of the test function named ``fname`` (weights ``w``) at ``x``."""
    if fname == "sum(x**2)":
        return 2 * x
    if fname.startswith("sum(w*x)"):
        return w + x**2
    first, last = (0,) * x.ndim, tuple(s - 1 for s in x.shape)
    g = np.zeros_like(x)
    g[first] += x[last] + np.cos(x[first])
    g[last] += x[first]
    return g


def _gradient_hint(ndim: int):
    def hint(type_name: str, message: str) -> str:
        return (" x may have any shape: visit its positions with np.ndindex(x.shape) rather "
                "than range(len(x)), and keep every array x's shape." if ndim > 1 else "")
    return hint


@probe(returns=items(is_float_array, is_float_array))
def gradient_at(student: Callable, fname: str, w: np.ndarray, x: np.ndarray, h: float,
                name: str, where: str):
    """Your gradient and the input as it was after your call (it must not change)."""
    result = student(sample_function(fname, w), x, h)
    return [as_float_array(result, name, where), np.array(x, dtype=np.float64)]


@judgement
def check_numerical_gradient(
    student: Callable,
    shapes: Sequence[tuple[int, ...]] = ((3,), (2, 3)),
    seeds: Sequence[int] = (0, 1),
    h: float = 1e-5,
) -> None:
    """``student(f, x, h)`` must return the gradient of scalar ``f`` at array ``x`` (same shape)
    by central differences, and leave ``x`` unchanged."""
    name = "`numerical_gradient`"
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for shape in shapes:
            for fname, w in _test_functions(rng, shape):
                x = rng.uniform(-2.0, 2.0, size=shape)
                before = x.copy()
                where = f"f(x)={fname}, x of shape {shape}, h={h:g} (seed {seed})"
                data = observe(f"gradient at {where}",
                               Probe(gradient_at, student=student, fname=fname, w=w, x=x, h=h,
                                     name=name, where=where),
                               name, where, _gradient_hint(x.ndim))
                got, after = data
                if got.shape != before.shape:
                    raise CheckFailure(
                        f"{name} returned shape {got.shape} for {where}; the gradient has one "
                        f"entry per entry of x, so it must have x's shape {before.shape}. "
                        "Loop over np.ndindex(x.shape) and fill np.zeros_like(x)."
                    )
                if after.shape != before.shape or not np.array_equal(after, before):
                    moved = (np.max(np.abs(after - before)) if after.shape == before.shape
                             else float("nan"))
                    raise CheckFailure(
                        f"{name} changed its input x for {where}: some entries moved by up "
                        f"to {moved:.2g}. Put each entry back after "
                        "nudging it (or nudge a copy)."
                    )
                expected = _exact_gradient(fname, w, before)
                ok = close(got, expected, rtol=1e-6, atol=1e-8)
                if not np.all(ok):
                    entry = tuple(int(i) for i in np.argwhere(~ok)[0])
                    raise CheckFailure(
                        f"{name} is wrong at {where}, entry {entry}: expected "
                        f"{expected[entry]:.8g}, got {got[entry]:.8g} — nudge one entry at a "
                        "time, by +h and by -h, and divide the change in f by 2h"
                    )

