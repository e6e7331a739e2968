"""Gradient checks for whole networks: backprop's gradient against central differences.

A ReLU network's loss is smooth only piece by piece: it has a kink wherever a pre-activation
crosses 0. A central difference whose two evaluations straddle a kink mixes two slopes and can
disagree with a perfectly correct gradient (measured: a plain check of a 64-2-32-2 ReLU net
false-fails in about 3 of 10 seeds). This check is kink-aware: give it the pre-activations of
the ReLUs (``kinks``) and, for each parameter entry, it compares the sign pattern of every
pre-activation at ``theta + h`` and ``theta - h`` with the one at ``theta``. If a sign changed,
the step crossed a kink, so it retries with a step ten times smaller; if every step crosses,
the entry is skipped and counted (a kink exactly at the point has no derivative to check).

Entries are compared like every other check of the kit:
``|analytic - numeric| <= ATOL + RTOL * max(|analytic|, |numeric|)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .checks import (
    ATOL,
    RTOL,
    CheckFailure,
    array_hint,
    as_float_array,
    check_close,
    close,
    step_size,
)
from .core import (
    Probe,
    is_float_array,
    items,
    judgement,
    observe,
    probe,
)

#: How many times a step that crosses a kink is divided by 10 before the entry is skipped.
#: Two shrinks reach about 6e-8, where round-off is still ~1e-9 of an O(1) loss.
MAX_SHRINKS = 2

Params = Mapping[str, np.ndarray]


@dataclass
class Mismatch:
    """One gradient entry where backprop and central differences disagree."""

    name: str
    index: tuple[int, ...]
    analytic: float
    numeric: float

    def __str__(self) -> str:
        at = f"{self.name}{list(self.index)}" if self.index else self.name
        return f"{at}: backprop gives {self.analytic:.6g}, central differences {self.numeric:.6g}"


@dataclass
class GradCheckResult:
    """What a gradient check compared, what it skipped, and where it disagreed."""

    kink_aware: bool = True
    checked: int = 0
    shrunk: int = 0
    skipped: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    max_error: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def __str__(self) -> str:
        text = f"{self.checked} entries checked, largest relative error {self.max_error:.1e}"
        if self.kink_aware:
            text += (
                f"; {self.shrunk} needed a smaller step to stay off a ReLU kink, "
                f"{len(self.skipped)} skipped (a kink at every step)"
            )
        if self.mismatches:
            text += f"; {len(self.mismatches)} disagree, first {self.mismatches[0]}"
        return text


def _signs(kinks: Callable[[Params], Sequence[np.ndarray]] | None, params: Params):
    if kinks is None:
        return None
    return [np.asarray(z) > 0 for z in kinks(params)]


def _same(a, b) -> bool:
    return a is None or all(np.array_equal(x, y) for x, y in zip(a, b))


def compare_gradients(
    loss: Callable[[Params], Any],
    params: Params,
    grads: Params,
    kinks: Callable[[Params], Sequence[np.ndarray]] | None = None,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    max_shrinks: int = MAX_SHRINKS,
) -> GradCheckResult:
    """Compare ``grads`` (e.g. from backprop) with central differences of ``loss``, entry by entry.

    ``loss(params)`` returns a scalar for a dict of float arrays; ``grads`` has the same keys and
    shapes. ``kinks(params)``, if given, returns the pre-activations of every ReLU (any shapes);
    entries whose step crosses one of their zeros are re-measured with smaller steps (see the
    module docstring). Without ``kinks`` this is the plain check. ``params`` is not modified.
    """
    point = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    center = _signs(kinks, point)
    result = GradCheckResult(kink_aware=kinks is not None)
    for name, theta in point.items():
        if name not in grads:
            raise CheckFailure(f"no gradient given for parameter {name!r}")
        analytic = as_float_array(grads[name], f"the gradient of {name}")
        if analytic.shape != theta.shape:
            raise CheckFailure(
                f"the gradient of {name} has shape {analytic.shape}; the parameter has shape "
                f"{theta.shape}. A gradient has the shape of what it is taken with respect to."
            )
        steps = step_size(theta)
        for index in np.ndindex(theta.shape):
            original = theta[index]
            h = steps[index]
            numeric = None
            for attempt in range(max_shrinks + 1):
                theta[index] = original + h
                plus, signs_plus = float(loss(point)), _signs(kinks, point)
                theta[index] = original - h
                minus, signs_minus = float(loss(point)), _signs(kinks, point)
                theta[index] = original
                if _same(center, signs_plus) and _same(center, signs_minus):
                    numeric = (plus - minus) / (2 * h)
                    result.shrunk += attempt > 0
                    break
                h /= 10
            if numeric is None:
                result.skipped.append((name, index))
                continue
            result.checked += 1
            a = float(analytic[index])
            scale = max(abs(a), abs(numeric))
            if scale > atol:
                result.max_error = max(result.max_error, abs(a - numeric) / scale)
            if not close(np.float64(a), np.float64(numeric), rtol, atol):
                result.mismatches.append(Mismatch(name, index, a, numeric))
    return result


@judgement
def check_network_gradient(
    loss: Callable[[Params], Any],
    params: Params,
    grads: Params,
    kinks: Callable[[Params], Sequence[np.ndarray]] | None = None,
    *,
    max_skipped: float = 0.05,
    **options: Any,
) -> GradCheckResult:
    """Like :func:`compare_gradients`, but raise :class:`CheckFailure` when an entry disagrees
    (or when more than ``max_skipped`` of the entries had to be skipped); return the result."""
    result = compare_gradients(loss, params, grads, kinks, **options)
    total = result.checked + len(result.skipped)
    if result.mismatches:
        names = sorted({m.name for m in result.mismatches})
        raise CheckFailure(
            f"the network's gradient is wrong for {', '.join(names)}: "
            f"{len(result.mismatches)} of {result.checked} entries disagree; first, "
            f"{result.mismatches[0]}. Check the vjp of the ops between the loss and "
            f"{result.mismatches[0].name}."
        )
    if total and len(result.skipped) > max_skipped * total:
        raise CheckFailure(
            f"{len(result.skipped)} of {total} entries sit on a ReLU kink at every step tried; "
            "evaluate the check at another random point (another seed)."
        )
    return result


@probe(returns=items(is_float_array, is_float_array, lambda v: isinstance(v, bool)))
def value_and_grad_at(student: Callable[..., Any], x: np.ndarray, args: Sequence[Any],
                      what: str, where: str) -> list[Any]:
    """[value, gradient, whether the input was changed] of ``student(x, *args)``."""
    given = x.copy()
    result = student(given, *copy.deepcopy(list(args)))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(
            f"`{what}` returned {type(result).__name__}; it must return a pair "
            f"(value, gradient) at {where}."
        )
    value = as_float_array(result[0], f"the value from `{what}`", where)
    grad = as_float_array(result[1], f"the gradient from `{what}`", where)
    return [value, grad, bool(given.shape != x.shape or not np.array_equal(given, x))]


@judgement
def check_value_and_grad(
    student: Callable[..., Any],
    reference: Callable[..., Any] | None,
    x: np.ndarray,
    *args: Any,
    what: str,
    where: str = "",
    shift: float = 0.0,
    expected: tuple[Any, Any] | None = None,
    hint: str = "",
) -> None:
    """Check ``student(x, *args) -> (value, dvalue/dx)`` for a scalar-valued ``reference``.

    The value must be a scalar equal to ``reference(x, *args)``; the gradient must have x's
    shape and match central differences of the reference with respect to ``x`` (``args``, such
    as integer labels, are held fixed), and ``x`` must be left unchanged. With ``shift`` the
    student's function gets ``x + shift`` and must still give the reference's results at ``x``
    (a softmax does not change when every logit moves by the same amount); ``expected`` gives
    the (value, gradient) outright instead of a reference; ``hint`` is said on a wrong result.
    """
    from .checks import finite_difference_partial, hint_for

    x = np.asarray(x, dtype=np.float64)
    data = observe(f"value and gradient at {where} (shift {shift:g})",
                   # non-finite data reaches the judgement, which fails it with this
                   # check's own hint (a loss that overflows is what its hint is about)
                   Probe(value_and_grad_at, finite=False, student=student, x=x + shift,
                         args=list(args), what=what, where=where),
                   f"`{what}`", where, array_hint(True))
    value, grad, changed = data
    if changed:
        raise CheckFailure(
            f"`{what}` changed its input at {where}: do not modify the input in place (work "
            "on a copy, e.g. logits - logits.max(axis=1, keepdims=True) makes a new array)."
        )
    if value.shape != ():
        raise CheckFailure(
            f"the value from `{what}` has shape {value.shape} at {where}; the loss is a single "
            "number (the mean over the examples)."
        )
    if expected is None:
        expected_value = reference(x, *args)
        expected_grad = finite_difference_partial(
            lambda z: reference(z, *args), [x], 0, np.ones(()))
    else:
        expected_value, expected_grad = expected
    batch = x.shape[0] if x.ndim == 2 and x.shape[0] > 1 else None
    value_hint = hint
    if not value_hint and batch and np.all(close(value, batch * np.asarray(expected_value))):
        value_hint = (f"it is exactly {batch} times the expected loss: the loss is the mean "
                      f"over the {batch} examples, not their sum (divide by the number of rows)")
    check_close(value, expected_value, f"the value from `{what}`", where, value_hint)
    expected_grad = np.asarray(expected_grad, dtype=np.float64)
    if grad.shape != x.shape:
        raise CheckFailure(
            f"the gradient from `{what}` has shape {grad.shape} at {where}; it must have the "
            f"shape of the input, {x.shape}."
        )
    if not hint and not np.all(close(grad, expected_grad)):
        hint = hint_for(grad, expected_grad, [])
        if batch and np.all(close(grad, batch * expected_grad)):
            hint = (f"it is exactly {batch} times the expected gradient: the gradient of a mean "
                    f"over {batch} examples has a factor 1/{batch}")
    check_close(grad, expected_grad, f"the gradient from `{what}`", where, hint)
