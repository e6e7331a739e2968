"""Forward-mode automatic differentiation: every value carries its derivatives forward.

A `ForwardValue` holds `value` and `forward_grads`, a dict mapping each input variable (a
`ForwardValue` made directly from a number) to d(self)/d(input). An op computes its value with
`func` and its local partials with `grads`; `forward_pass` applies the chain rule,

    d(self)/dx = sum_i  grads_i * d(parent_i)/dx,

summing over the parents (the total derivative). Values may be floats or numpy arrays, in which
case everything is elementwise (the tangent of an array input starts as all ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import scalar_ops
from .operators import Operators, wire


def _ones_like(value: Any) -> Any:
    return np.ones_like(value, dtype=np.float64) if isinstance(value, np.ndarray) else 1.0


class ForwardValue(Operators):
    """A variable (when made from a number) or the result of an op (subclasses).

    Attributes:
        parents: the inputs of the op, ForwardValues or plain numbers (constants).
        parent_values: the raw value of each input.
        value: the result of the op.
        forward_grads: {input variable: d(self)/d(input variable)}.
    """

    __slots__ = ("parents", "parent_values", "value", "forward_grads")

    def __init__(self, *args: Any) -> None:
        self.parents = args
        self.parent_values = [arg.value if isinstance(arg, ForwardValue) else arg for arg in args]
        self.value = self.forward_pass(args)
        if len(self.forward_grads) == 0:
            # No input depends on a variable: this node is itself a variable, dself/dself = 1.
            self.forward_grads = {self: _ones_like(self.value)}

    def func(self, input: Any) -> Any:
        """A variable's value is its input (the identity)."""
        return input

    def grads(self, *args: Any) -> tuple[Any, ...]:
        """d(identity)/d(input) = 1."""
        return (1.0,)

    def forward_pass(self, args: Sequence[Any]) -> Any:
        """Fill `forward_grads` by the chain rule and return the value `func(*parent_values)`."""
        self.forward_grads = {}
        local_grads = self.grads(*self.parent_values)
        for arg, local in zip(args, local_grads):
            if isinstance(arg, ForwardValue):
                for variable, tangent in arg.forward_grads.items():
                    self.forward_grads[variable] = (
                        self.forward_grads.get(variable, 0.0) + local * tangent
                    )
        return self.func(*self.parent_values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(value={self.value!r})"


class _add(scalar_ops._add, ForwardValue):
    __slots__ = ()


class _neg(scalar_ops._neg, ForwardValue):
    __slots__ = ()


class _sub(scalar_ops._sub, ForwardValue):
    __slots__ = ()


class _mul(scalar_ops._mul, ForwardValue):
    __slots__ = ()


class _div(scalar_ops._div, ForwardValue):
    __slots__ = ()


class _pow(scalar_ops._pow, ForwardValue):
    __slots__ = ()


class _exp(scalar_ops._exp, ForwardValue):
    __slots__ = ()


class _log(scalar_ops._log, ForwardValue):
    __slots__ = ()


class _sin(scalar_ops._sin, ForwardValue):
    __slots__ = ()


class _cos(scalar_ops._cos, ForwardValue):
    __slots__ = ()


class _tanh(scalar_ops._tanh, ForwardValue):
    __slots__ = ()


class _sigmoid(scalar_ops._sigmoid, ForwardValue):
    __slots__ = ()


class _relu(scalar_ops._relu, ForwardValue):
    __slots__ = ()


class _matmul(ForwardValue):
    """C = A @ B;  dC = dA @ B + A @ dB (a tangent, not an elementwise product)."""

    __slots__ = ()

    def func(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    def grads(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return b, a

    def forward_pass(self, args: Sequence[Any]) -> Any:
        a, b = self.parent_values
        self.forward_grads = {}
        pushes = (lambda t: t @ b, lambda t: a @ t)
        for arg, push in zip(args, pushes):
            if isinstance(arg, ForwardValue):
                for variable, tangent in arg.forward_grads.items():
                    self.forward_grads[variable] = self.forward_grads.get(variable, 0.0) + push(
                        tangent
                    )
        return self.func(a, b)


wire(ForwardValue, add=_add, neg=_neg, sub=_sub, mul=_mul, div=_div, pow=_pow, matmul=_matmul,
     exp=_exp, log=_log, sin=_sin, cos=_cos, tanh=_tanh, sigmoid=_sigmoid, relu=_relu)


def _seeded_variable(x: Any, tangent: Any) -> ForwardValue:
    """A variable whose derivative with respect to itself is `tangent` (a direction)."""
    variable = ForwardValue(x)
    variable.forward_grads = {variable: tangent}
    return variable


def _flat_outputs(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def jacobian(f: Callable[..., Any], *xs: Any) -> np.ndarray:
    """The Jacobian of f at xs, one forward pass per (element of each) input.

    f takes floats/arrays (as ForwardValues) and returns a value or a list/tuple of values.
    Returns an array of shape (total output size, total input size), both flattened in C order
    and concatenated in argument order. Column j is the tangent of the outputs when input j is
    seeded with 1 and every other input with 0.
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in xs]
    columns = []
    for k, xk in enumerate(arrays):
        for j in range(xk.size):
            seed = np.zeros(xk.size)
            seed[j] = 1.0
            seed = seed.reshape(xk.shape) if xk.ndim else 1.0
            args = [
                _seeded_variable(x if x.ndim else float(x), seed if i == k else 0.0 * seed)
                for i, x in enumerate(arrays)
            ]
            column = []
            for out in _flat_outputs(f(*args)):
                if isinstance(out, ForwardValue):
                    tangent = out.forward_grads.get(args[k], 0.0)
                    column.append(np.broadcast_to(tangent, np.shape(out.value)).ravel())
                else:  # an output that does not depend on any input
                    column.append(np.zeros(np.size(out)))
            columns.append(np.concatenate(column))
    return np.stack(columns, axis=1)
