"""Finite differences: the numerical derivatives every analytic one is checked against.

Step-size rule (float64, eps = 2.2e-16): the truncation error of a forward difference is O(h) and
its round-off O(eps/h), balanced at h ~ sqrt(eps) ~ 1.5e-8; for a central difference they are
O(h^2) and O(eps/h), balanced at h ~ cbrt(eps) ~ 6.1e-6. Both scale with max(1, |x|).
Measured: central differences at that step are good to ~1e-9 relative on smooth functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

EPS = float(np.finfo(np.float64).eps)

# The comparison every gradient check uses: |a - n| <= ATOL + RTOL * max(|a|, |n|).
ATOL = 1e-6
RTOL = 1e-6


def default_step(x: Any, central: bool = True) -> Any:
    """cbrt(eps) * max(1, |x|) for central differences, sqrt(eps) * max(1, |x|) for forward."""
    base = EPS ** (1.0 / 3.0) if central else EPS ** 0.5
    return base * np.maximum(1.0, np.abs(x))


def _exact_step(x: np.ndarray, h: Any) -> np.ndarray:
    """The step actually taken in floating point, (x + h) - x (removes representation error)."""
    return (x + h) - x


def forward_difference(f: Callable[[Any], Any], x: Any, h: Any = None) -> Any:
    """(f(x + h) - f(x)) / h for scalar f, elementwise on an array x; error O(h)."""
    x = np.asarray(x, dtype=np.float64)
    h = _exact_step(x, default_step(x, central=False) if h is None else h)
    result = (np.asarray(f(x + h)) - np.asarray(f(x))) / h
    return float(result) if result.ndim == 0 else result


def central_difference(f: Callable[[Any], Any], x: Any, h: Any = None) -> Any:
    """(f(x + h) - f(x - h)) / (2h) for scalar f, elementwise on an array x; error O(h^2)."""
    x = np.asarray(x, dtype=np.float64)
    h = default_step(x) if h is None else np.asarray(h, dtype=np.float64)
    result = (np.asarray(f(x + h)) - np.asarray(f(x - h))) / ((x + h) - (x - h))
    return float(result) if result.ndim == 0 else result


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, h: Any = None) -> np.ndarray:
    """Central-difference gradient of f: array -> scalar; same shape as x (float64).

    Entry i perturbs x[i] alone by h_i = cbrt(eps) * max(1, |x[i]|) (or the given h).
    """
    x = np.array(x, dtype=np.float64)
    steps = np.broadcast_to(default_step(x) if h is None else h, x.shape)
    gradient = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + steps[i]
        up, step_up = float(f(x.copy())), x[i]
        x[i] = original - steps[i]
        down, step_down = float(f(x.copy())), x[i]
        x[i] = original
        gradient[i] = (up - down) / (step_up - step_down)
    return gradient


def numerical_jacobian(f: Callable[[np.ndarray], Any], x: Any, h: Any = None) -> np.ndarray:
    """Central-difference Jacobian of f: array -> array; shape f(x).shape + x.shape."""
    x = np.array(x, dtype=np.float64)
    out_shape = np.shape(f(x.copy()))
    steps = np.broadcast_to(default_step(x) if h is None else h, x.shape)
    jac = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + steps[i]
        up, step_up = np.asarray(f(x.copy()), dtype=np.float64), x[i]
        x[i] = original - steps[i]
        down, step_down = np.asarray(f(x.copy()), dtype=np.float64), x[i]
        x[i] = original
        jac[(...,) + i] = (up - down) / (step_up - step_down)
    return jac


def relative_error(a: Any, b: Any, floor: float = 1e-300) -> float:
    """max |a - b| / max(|a|, |b|) over elements (0 where both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    return float(np.max(np.abs(a - b) / scale, initial=0.0))


def close_enough(analytic: Any, numeric: Any, atol: float = ATOL, rtol: float = RTOL) -> bool:
    """True when |a - n| <= atol + rtol * max(|a|, |n|) holds elementwise (shapes must match)."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        return False
    return bool(np.all(np.abs(a - n) <= atol + rtol * np.maximum(np.abs(a), np.abs(n))))
