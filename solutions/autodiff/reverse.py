"""Reverse-mode automatic differentiation (backpropagation) on scalar or elementwise values.

Building an expression records a graph: every `AutogradValue` keeps its `parents` (inputs) and
their raw `parent_values`. `y.backward()` then visits the graph once in reverse topological
order; at each node `backward_pass` multiplies the upstream gradient `dy/dnode` by each local
derivative (the op's `grads`) and adds it into the parent's `.grad` (the chain rule, summed over
every path):

    dy/dparent += dy/dnode * dnode/dparent

Second call: `backward()` first resets `.grad` of every node in the graph, so calling it twice
gives the same gradients (idempotent), unlike a silent accumulation. To accumulate the gradients
of several losses, call `backward()` on their sum.

Garbage collector: `backward()` pauses Python's cyclic GC while it runs (and restores the previous
state afterwards). The graph holds no reference cycles, so nothing is leaked; the pause only
avoids repeated scans of a large graph that cannot be garbage (see `bench`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from . import scalar_ops
from .operators import Operators, wire

_NO_INPUT = object()  # marks the empty second input slot of a one-input op


class AutogradValue(Operators):
    """A variable (when made from a number) or the result of an op (subclasses).

    Attributes:
        parents: the inputs of the op, AutogradValues or plain numbers (constants).
        parent_values: the raw value of each input.
        value: the result of the op.
        grad: d(output)/d(self), filled by `backward()` on some output.
    """

    # The inputs live in two slots, not in a tuple: one object per node for Python's cyclic
    # garbage collector to scan instead of two, which roughly halves its cost while a large
    # graph is built (see `bench`). `parents` gives them back as a tuple.
    __slots__ = ("_input0", "_input1", "parent_values", "value", "grad")

    def __init__(self, *args: Any) -> None:
        # Written out for one and two inputs (every op): this runs once per node. A tuple of
        # plain numbers leaves the garbage collector's watch list, so parent_values is free.
        if len(args) == 2:
            a, b = self._input0, self._input1 = args
            values = (a.value if isinstance(a, AutogradValue) else a,
                      b.value if isinstance(b, AutogradValue) else b)
        elif len(args) == 1:
            (a,) = args
            self._input0, self._input1 = a, _NO_INPUT
            values = (a.value if isinstance(a, AutogradValue) else a,)
        else:
            raise TypeError(f"{type(self).__name__} takes one or two inputs, got {len(args)}")
        self.parent_values = values
        self.value = self.func(*values)
        self.grad = 0.0

    @property
    def parents(self) -> tuple[Any, ...]:
        """The inputs of the op: AutogradValues or plain numbers (constants)."""
        if self._input1 is _NO_INPUT:
            return (self._input0,)
        return (self._input0, self._input1)

    def func(self, input: Any) -> Any:
        """A variable's value is its input (the identity)."""
        return input

    def grads(self, *args: Any) -> tuple[Any, ...]:
        """d(identity)/d(input) = 1."""
        return (1.0,)

    def backward_pass(self) -> None:
        """Send this node's gradient to its parents: parent.grad += self.grad * local partial.

        Parents that are constants (not AutogradValues) are skipped.
        """
        grad = self.grad
        local_grads = self.grads(*self.parent_values)
        # zip stops after the first input of a one-input op (one local derivative)
        for parent, local in zip((self._input0, self._input1), local_grads):
            if isinstance(parent, AutogradValue):
                parent.grad = parent.grad + grad * local

    def topological_order(self) -> list[AutogradValue]:
        """Every node this one depends on (itself included), each after all of its parents.

        Iterative depth-first search, so a chain of any length works (no recursion limit).
        """
        order: list[AutogradValue] = []
        visited: set[AutogradValue] = set()  # nodes hash by identity
        stack: list[tuple[AutogradValue, bool]] = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                for parent in (node._input0, node._input1):  # node.parents, without a tuple
                    if isinstance(parent, AutogradValue) and parent not in visited:
                        stack.append((parent, False))
        return order

    def backward(self, gradient: Any = None) -> None:
        """Fill `.grad` with d(self)/d(node) on every node of the graph (self included).

        `gradient` seeds d(loss)/d(self) (default 1, or ones for an array value); any earlier
        `.grad` in this graph is reset first, so a second call gives the same result.
        """
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            order = self.topological_order()
            for node in order:
                node.grad = 0.0
            if gradient is None:
                gradient = np.ones_like(self.value) if isinstance(self.value, np.ndarray) else 1.0
            self.grad = gradient
            for node in reversed(order):
                node.backward_pass()
        finally:
            if gc_was_enabled:
                gc.enable()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(value={self.value!r}, grad={self.grad!r})"


class _add(scalar_ops._add, AutogradValue):
    __slots__ = ()


class _neg(scalar_ops._neg, AutogradValue):
    __slots__ = ()


class _sub(scalar_ops._sub, AutogradValue):
    __slots__ = ()


class _mul(scalar_ops._mul, AutogradValue):
    __slots__ = ()


class _div(scalar_ops._div, AutogradValue):
    __slots__ = ()


class _pow(scalar_ops._pow, AutogradValue):
    __slots__ = ()


class _exp(scalar_ops._exp, AutogradValue):
    __slots__ = ()


class _log(scalar_ops._log, AutogradValue):
    __slots__ = ()


class _sin(scalar_ops._sin, AutogradValue):
    __slots__ = ()


class _cos(scalar_ops._cos, AutogradValue):
    __slots__ = ()


class _tanh(scalar_ops._tanh, AutogradValue):
    __slots__ = ()


class _sigmoid(scalar_ops._sigmoid, AutogradValue):
    __slots__ = ()


class _relu(scalar_ops._relu, AutogradValue):
    __slots__ = ()


class _matmul(AutogradValue):
    """C = A @ B;  dL/dA = dL/dC @ B^T, dL/dB = A^T @ dL/dC (matrices, no Jacobian formed)."""

    __slots__ = ()

    def func(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    def grads(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return b, a

    def backward_pass(self) -> None:
        a, b = (np.asarray(v, dtype=np.float64) for v in self.parent_values)
        g = np.asarray(self.grad, dtype=np.float64)
        a2, b2 = np.atleast_2d(a), (b if b.ndim > 1 else b[:, None])
        g2 = g.reshape(a2.shape[0], b2.shape[1])
        pushes = ((g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape))
        for parent, push in zip(self.parents, pushes):
            if isinstance(parent, AutogradValue):
                parent.grad = parent.grad + push


wire(AutogradValue, add=_add, neg=_neg, sub=_sub, mul=_mul, div=_div, pow=_pow, matmul=_matmul,
     exp=_exp, log=_log, sin=_sin, cos=_cos, tanh=_tanh, sigmoid=_sigmoid, relu=_relu)


def _as_tuple(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def grad(f: Callable[..., Any]) -> Callable[..., Any]:
    """The gradient function of a scalar-valued f: grad(f)(*xs) = df/dx for each x.

    Returns one gradient for one argument, else a tuple (one per argument).
    """

    def gradient_of_f(*xs: Any) -> Any:
        variables = [AutogradValue(x) for x in xs]
        out = f(*variables)
        if not isinstance(out, AutogradValue):
            grads = tuple(np.zeros_like(np.asarray(x, dtype=np.float64)) for x in xs)
        else:
            out.backward()
            grads = tuple(v.grad for v in variables)
        return grads[0] if len(grads) == 1 else grads

    return gradient_of_f


def vjp(f: Callable[..., Any], *xs: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Evaluate f at xs; return (value, pullback) with pullback(g) = g^T J (one per argument).

    The graph is recorded once; each pullback call runs one backward pass seeded with g.
    """
    variables = [AutogradValue(x) for x in xs]
    out = f(*variables)
    value = out.value if isinstance(out, AutogradValue) else out

    def pullback(g: Any) -> Any:
        if isinstance(out, AutogradValue):
            out.backward(g)
            grads = tuple(v.grad for v in variables)
        else:
            grads = tuple(np.zeros_like(np.asarray(x, dtype=np.float64)) for x in xs)
        return grads[0] if len(grads) == 1 else grads

    return value, pullback


def jacobian(f: Callable[..., Any], *xs: float) -> np.ndarray:
    """The Jacobian of f: scalars -> scalar or list of scalars, one backward pass per output.

    Returns an array of shape (number of outputs, number of inputs).
    """
    variables = [AutogradValue(float(x)) for x in xs]
    rows = []
    for out in _as_tuple(f(*variables)):
        for v in variables:  # an input this output does not depend on keeps gradient 0
            v.grad = 0.0
        if isinstance(out, AutogradValue):
            out.backward()
        rows.append([float(v.grad) for v in variables])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(variables))
