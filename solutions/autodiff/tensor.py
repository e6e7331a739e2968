"""Vectorized reverse mode: a `Tensor` wraps a float64 numpy array and records the ops applied.

An op is a subclass of `Tensor` with `func(self, *inputs)` (the value, from raw arrays) and
`vjp(self, g, *inputs)`: given the upstream gradient g = dL/d(output), the gradient dL/d(input)
for each input, already reduced to that input's shape (broadcasting sums over the broadcast
axes). Jacobians are never formed: for C = A @ B, dL/dA = g @ B^T and dL/dB = A^T @ g.

`loss.backward()` resets `.grad` on the graph, seeds dL/dL = 1 and runs every op's vjp in
reverse topological order (iterative). After it, every tensor with `requires_grad` holds `.grad`
with the shape of its `.data`. A second call gives the same gradients (idempotent). An op skips
the gradient of an input that needs none (`self.needs[i]` is False) and returns None there.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .operators import Operators, wire

Array = np.ndarray

# Every tensor gets the next number when made; parents are always made before their children,
# so sorting by it is a topological order (cheaper than a depth-first post-order).
_creation_counter = itertools.count()


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum g (shape of a broadcast result) down to `shape`: the vjp of broadcasting."""
    if g.shape == shape:
        return g
    leading = g.ndim - len(shape)  # axes that broadcasting added in front
    if g.shape[leading:] == shape:  # e.g. a bias (k,) added to a batch (n, k)
        return g.sum(axis=0) if leading == 1 else g.sum(axis=tuple(range(leading)))
    stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1)  # size 1, stretched
    return g.sum(axis=tuple(range(leading)) + stretched).reshape(shape)


class Tensor(Operators):
    """A float64 array that records the ops applied to it.

    Attributes:
        data: the value (np.ndarray, float64).
        requires_grad: whether backward() fills .grad here (leaves: as given; op results: when
            any input requires it).
        grad: dL/d(data) after loss.backward(), same shape as data (None before).
        parents: the inputs of the op that made it (empty for a leaf).
    """

    __slots__ = ("data", "requires_grad", "grad", "parents", "created")

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad = requires_grad
        self.grad: Array | None = None
        self.parents: tuple[Any, ...] = ()
        self.created = next(_creation_counter)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def T(self) -> Tensor:
        return _transpose(self)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _mean(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        return _reshape(self, shape=shape[0] if len(shape) == 1 else shape)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _log_softmax(self, axis=axis)

    def numpy(self) -> Array:
        return self.data

    def item(self) -> float:
        return float(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"{type(self).__name__}({self.data!r}{grad})"

    def topological_order(self) -> list[Tensor]:
        """Every tensor that needs a gradient and that this one depends on, parents first."""
        # Keyed by creation number: a unique id, and sorting the keys is a topological order.
        found = {self.created: self}
        stack = [self] if self.parents else []
        while stack:
            node = stack.pop()
            for parent, needed in zip(node.parents, node.needs):
                if needed and parent.created not in found:
                    found[parent.created] = parent
                    if parent.parents:  # a leaf has nothing to visit
                        stack.append(parent)
        return [found[number] for number in sorted(found)]

    def backward(self, gradient: Any = None) -> None:
        """Fill .grad = dself/dnode on every tensor of the graph that requires a gradient.

        `gradient` seeds dL/dself (default ones; a scalar loss needs none). Earlier .grad values
        of this graph are reset first, so calling backward twice gives the same result.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not depend on any tensor with "
                               "requires_grad=True, so there is nothing to differentiate")
        order = self.topological_order()
        for node in order:
            node.grad = None
        seed = np.array(1.0 if gradient is None else gradient, dtype=np.float64)  # a copy
        self.grad = seed if seed.shape == self.shape else np.broadcast_to(seed, self.shape).copy()
        for node in reversed(order):
            if node.parents and node.grad is not None:
                node.backward_pass()

    def backward_pass(self) -> None:
        """Add this op's vjp for each input into that input's .grad."""


class Op(Tensor):
    """Base of every op: records its inputs, computes `func`, knows which inputs need grads."""

    __slots__ = ("parent_values", "needs")

    def __init__(self, *inputs: Any) -> None:
        # A plain loop: this runs once per op and dominates small-array overhead.
        values, needs, requires_grad = [], [], False
        for x in inputs:
            if isinstance(x, Tensor):
                values.append(x.data)
                needs.append(x.requires_grad)
                requires_grad = requires_grad or x.requires_grad
            else:
                values.append(x if isinstance(x, np.ndarray) else np.asarray(x, np.float64))
                needs.append(False)
        self.parents = inputs
        self.parent_values = values
        self.needs = needs
        self.requires_grad = requires_grad
        self.grad = None
        self.created = next(_creation_counter)
        self.data = self.func(*values)

    def func(self, *inputs: Any) -> Array:
        raise NotImplementedError

    def vjp(self, g: Array, *inputs: Any) -> Sequence[Array | None]:
        raise NotImplementedError

    def backward_pass(self) -> None:
        grads = self.vjp(self.grad, *self.parent_values)
        for parent, needed, g in zip(self.parents, self.needs, grads):
            if needed:
                if parent.grad is None:
                    # a leaf's .grad is the user's: give it its own array, never a view of (or
                    # the very) upstream gradient another tensor also holds
                    parent.grad = g.copy() if not parent.parents and (
                        g is self.grad or g.base is not None) else g
                else:
                    parent.grad = parent.grad + g


class _add(Op):
    """C = A + B (broadcasting);  dA = g, dB = g, each summed to its input's shape."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a + b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array | None, Array | None]:
        needs = self.needs
        return (unbroadcast(g, a.shape) if needs[0] else None,
                unbroadcast(g, b.shape) if needs[1] else None)


class _neg(Op):
    """C = -A;  dA = -g."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return -a

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (-g,)


class _sub(Op):
    """C = A - B (broadcasting);  dA = g, dB = -g, each summed to its input's shape."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a - b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array, Array]:
        return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


class _mul(Op):
    """C = A * B (broadcasting);  dA = g * B, dB = g * A."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a * b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array, Array]:
        return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


class _div(Op):
    """C = A / B (broadcasting);  dA = g / B, dB = -g A / B^2."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a / b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array, Array]:
        return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


class _pow(Op):
    """C = A ** B;  dA = g B A^(B-1), dB = g A^B log A (only when B needs a gradient)."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return np.power(a, b)

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array | None, Array | None]:
        da = unbroadcast(g * b * np.power(a, b - 1.0), a.shape) if self.needs[0] else None
        db = unbroadcast(g * self.data * np.log(a), b.shape) if self.needs[1] else None
        return da, db


class _matmul(Op):
    """C = A @ B with A (n, k), B (k, m) or (k,);  dA = g @ B^T, dB = A^T @ g."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a @ b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array | None, Array | None]:
        if b.ndim == 1:
            return (np.outer(g, b) if self.needs[0] else None,
                    a.T @ g if self.needs[1] else None)
        return (g @ b.T if self.needs[0] else None, a.T @ g if self.needs[1] else None)


class _exp(Op):
    """C = exp(A);  dA = g * C."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.exp(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * self.data,)


class _log(Op):
    """C = log(A);  dA = g / A."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.log(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g / a,)


class _sin(Op):
    """C = sin(A);  dA = g * cos(A)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.sin(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * np.cos(a),)


class _cos(Op):
    """C = cos(A);  dA = -g * sin(A)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.cos(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (-g * np.sin(a),)


class _tanh(Op):
    """C = tanh(A);  dA = g * (1 - C^2)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.tanh(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * (1.0 - self.data * self.data),)


class _sigmoid(Op):
    """C = 1 / (1 + exp(-A)) (computed without overflow);  dA = g * C (1 - C)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return 0.5 * (1.0 + np.tanh(0.5 * a))

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * self.data * (1.0 - self.data),)


class _relu(Op):
    """C = max(A, 0);  dA = g where A > 0, else 0."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.maximum(a, 0.0)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * (a > 0.0),)


class _log_sigmoid(Op):
    """C = log sigmoid(A) = -log(1 + exp(-A));  dA = g * sigmoid(-A)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return -np.logaddexp(0.0, -a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * 0.5 * (1.0 - np.tanh(0.5 * a)),)


class _sum(Op):
    """C = sum of A over `axis` (all by default);  dA = g broadcast back to A's shape."""

    __slots__ = ("axis", "keepdims")

    def __init__(self, a: Any, axis: int | tuple[int, ...] | None = None,
                 keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims
        super().__init__(a)

    def func(self, a: Array) -> Array:
        return np.sum(a, axis=self.axis, keepdims=self.keepdims)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        if self.axis is not None and not self.keepdims:
            g = np.expand_dims(g, self.axis)
        return (np.broadcast_to(g, a.shape),)


class _mean(_sum):
    """C = mean of A over `axis`;  dA = g / (number of averaged entries), broadcast back."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.mean(a, axis=self.axis, keepdims=self.keepdims)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        (spread,) = super().vjp(g, a)
        return (spread * (g.size / a.size),)


class _reshape(Op):
    """C = A reshaped;  dA = g reshaped back."""

    __slots__ = ("new_shape",)

    def __init__(self, a: Any, shape: Any) -> None:
        self.new_shape = shape
        super().__init__(a)

    def func(self, a: Array) -> Array:
        return np.reshape(a, self.new_shape)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g.reshape(a.shape),)


class _transpose(Op):
    """C = A^T (axes reversed);  dA = g^T."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return a.T

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g.T,)


class _log_softmax(Op):
    """C = A - logsumexp(A) along `axis`;  dA = g - softmax(A) * sum(g) along axis."""

    __slots__ = ("axis",)

    def __init__(self, a: Any, axis: int = -1) -> None:
        self.axis = axis
        super().__init__(a)

    def func(self, a: Array) -> Array:
        shifted = a - a.max(axis=self.axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g - np.exp(self.data) * g.sum(axis=self.axis, keepdims=True),)


class _softmax_cross_entropy(Op):
    """L = mean_i -log softmax(S_i)[y_i] for logits S (n, k) and integer labels y (n,);
    dS = g (softmax(S) - onehot(y)) / n."""

    __slots__ = ("probabilities", "rows")

    def func(self, scores: Array, labels: Array) -> Array:
        shifted = scores - scores.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        self.probabilities = exps / sums
        self.rows = np.arange(len(labels))
        return (np.log(sums[:, 0]) - shifted[self.rows, labels]).sum() / len(labels)

    def vjp(self, g: Array, scores: Array, labels: Array) -> tuple[Array, None]:
        scale = g / len(labels)
        d = self.probabilities * scale
        d[self.rows, labels] -= scale  # the onehot(y) term
        return d, None


class _multiclass_hinge(Op):
    """L = mean_i sum_{j != y_i} max(0, S_ij - S_iy_i + 1) (multiclass SVM);
    dS_ij = g/n [margin_ij > 0] for j != y_i, dS_iy_i = -g/n (number of positive margins)."""

    __slots__ = ("active",)

    def func(self, scores: Array, labels: Array) -> Array:
        rows = np.arange(len(labels))
        margins = scores - scores[rows, labels][:, None] + 1.0
        margins[rows, labels] = 0.0
        self.active = (margins > 0.0).astype(np.float64)
        return np.sum(np.maximum(margins, 0.0)) / len(labels)

    def vjp(self, g: Array, scores: Array, labels: Array) -> tuple[Array, None]:
        d = self.active.copy()
        d[np.arange(len(labels)), labels] = -self.active.sum(axis=1)
        return d * (g / len(labels)), None


wire(Tensor, add=_add, neg=_neg, sub=_sub, mul=_mul, div=_div, pow=_pow, matmul=_matmul,
     exp=_exp, log=_log, sin=_sin, cos=_cos, tanh=_tanh, sigmoid=_sigmoid, relu=_relu)


def _labels(labels: Any) -> Array:
    labels = labels.data if isinstance(labels, Tensor) else labels
    return np.asarray(labels).astype(np.intp, copy=False)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x) along axis, computed stably (shift by the max)."""
    return _log_softmax(x, axis=axis)


def log_sigmoid(x: Tensor) -> Tensor:
    """log sigmoid(x), elementwise and stable for large |x|."""
    return _log_sigmoid(x)


def softmax_cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """Mean softmax cross-entropy of logits (n, k) against integer labels (n,); a scalar."""
    return _softmax_cross_entropy(logits, _labels(labels))


cross_entropy = softmax_cross_entropy


def multiclass_hinge(scores: Tensor, labels: Any) -> Tensor:
    """Mean multiclass SVM hinge loss of scores (n, k) against integer labels (n,)."""
    return _multiclass_hinge(scores, _labels(labels))
