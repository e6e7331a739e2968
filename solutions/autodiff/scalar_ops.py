"""The maths of every elementwise op, written once: `func` is the value, `grads` the local
partial derivatives (one per input).

These classes are mixins: `forward` and `reverse` combine each with their node class, e.g.
`class _mul(scalar_ops._mul, ForwardValue)`. Inputs are floats or numpy arrays (elementwise).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Number = Any  # a float or a numpy array of float64


def _log_without_warning(a: Number) -> Number:
    """log(a), nan where a <= 0, without a RuntimeWarning (d(a**b)/db needs log a)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a)


class _add:
    """c = a + b;  dc/da = 1, dc/db = 1."""

    __slots__ = ()

    def func(self, a: Number, b: Number) -> Number:
        return a + b

    def grads(self, a: Number, b: Number) -> tuple[Number, Number]:
        return 1.0, 1.0


class _neg:
    """c = -a;  dc/da = -1."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return -a

    def grads(self, a: Number) -> tuple[Number]:
        return (-1.0,)


class _sub:
    """c = a - b;  dc/da = 1, dc/db = -1."""

    __slots__ = ()

    def func(self, a: Number, b: Number) -> Number:
        return a - b

    def grads(self, a: Number, b: Number) -> tuple[Number, Number]:
        return 1.0, -1.0


class _mul:
    """c = a * b;  dc/da = b, dc/db = a."""

    __slots__ = ()

    def func(self, a: Number, b: Number) -> Number:
        return a * b

    def grads(self, a: Number, b: Number) -> tuple[Number, Number]:
        return b, a


class _div:
    """c = a / b;  dc/da = 1/b, dc/db = -a/b**2."""

    __slots__ = ()

    def func(self, a: Number, b: Number) -> Number:
        return a / b

    def grads(self, a: Number, b: Number) -> tuple[Number, Number]:
        return 1.0 / b, -a / (b * b)


class _pow:
    """c = a ** b;  dc/da = b a**(b-1), dc/db = a**b log a (defined for a > 0)."""

    __slots__ = ()

    def func(self, a: Number, b: Number) -> Number:
        return np.power(a, b) if isinstance(a, np.ndarray) or a < 0 else a ** b

    def grads(self, a: Number, b: Number) -> tuple[Number, Number]:
        return b * np.power(a, b - 1.0), np.power(a, b) * _log_without_warning(a)


class _exp:
    """c = exp(a);  dc/da = exp(a)."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return math.exp(a) if isinstance(a, float) else np.exp(a)

    def grads(self, a: Number) -> tuple[Number]:
        return (math.exp(a) if isinstance(a, float) else np.exp(a),)


class _log:
    """c = log(a);  dc/da = 1/a."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return np.log(a)

    def grads(self, a: Number) -> tuple[Number]:
        return (1.0 / a,)


class _sin:
    """c = sin(a);  dc/da = cos(a)."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return np.sin(a)

    def grads(self, a: Number) -> tuple[Number]:
        return (np.cos(a),)


class _cos:
    """c = cos(a);  dc/da = -sin(a)."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return np.cos(a)

    def grads(self, a: Number) -> tuple[Number]:
        return (-np.sin(a),)


class _tanh:
    """c = tanh(a);  dc/da = 1 - tanh(a)**2."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return math.tanh(a) if isinstance(a, float) else np.tanh(a)

    def grads(self, a: Number) -> tuple[Number]:
        return (1.0 - self.func(a) ** 2,)


class _sigmoid:
    """c = 1 / (1 + exp(-a)), computed as (1 + tanh(a/2)) / 2 (no overflow);
    dc/da = c (1 - c)."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return 0.5 * (1.0 + (math.tanh(0.5 * a) if isinstance(a, float) else np.tanh(0.5 * a)))

    def grads(self, a: Number) -> tuple[Number]:
        s = self.func(a)
        return (s * (1.0 - s),)


class _relu:
    """c = max(a, 0);  dc/da = 1 if a > 0 else 0 (0 at the kink)."""

    __slots__ = ()

    def func(self, a: Number) -> Number:
        return (a if a > 0.0 else 0.0) if isinstance(a, float) else np.maximum(a, 0.0)

    def grads(self, a: Number) -> tuple[Number]:
        return ((1.0 if a > 0.0 else 0.0) if isinstance(a, float) else (a > 0.0) * 1.0,)
