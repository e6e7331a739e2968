"""Vectorized reverse mode: a `Tensor` wraps a float64 numpy array and records the ops applied.

An op is a subclass of `Tensor` with `func(self, *inputs)` (the value, from raw arrays) and
`vjp(self, g, *inputs)`: given the upstream gradient g = dL/d(output), the gradient dL/d(input)
for each input, already reduced to that input's shape (broadcasting sums over the broadcast
axes). Jacobians are never formed: for C = A @ B, dL/dA = g @ B^T and dL/dB = A^T @ g.

`loss.backward()` seeds dL/dL = 1 and runs every op's vjp in reverse topological order
(iterative, so deep chains work): it always takes next the newest op that has received its
gradient. After it, every tensor of the graph with `requires_grad` holds `.grad` with the shape
of its `.data`; the first gradient a tensor receives replaces its old `.grad`, so a second call
gives the same gradients (idempotent). An op may skip the gradient of an input that needs none
(`self.needs[i]` is False) and return None there; backward ignores that input either way. A vjp
never writes into `g` or into an array it was handed: gradients are passed on, not copied, and
a leaf gets a copy only of a gradient that another tensor also holds (or a view of one).

Speed: at small sizes (a batch of 64, a hidden layer of 32) the cost is per call, numpy's and
Python's, not per element, so the engine keeps its calls per op few: ops of one and two inputs
have a fixed-arity `__init__`, `backward` does each op's bookkeeping inline (no method call per
node, no separate topological sort), reductions call the ufunc's `reduce` (`ndarray.sum` adds
a Python wrapper) or, for sums over rows, a BLAS product with ones (see `_ones`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .operators import Operators, wire

Array = np.ndarray

# Every tensor gets the next number when made; parents are always made before their children,
# so an op made later never feeds one made earlier (backward relies on this).
_creation_counter = itertools.count()


@lru_cache(maxsize=64)
def _ones(n: int) -> Array:
    """n ones, made once per n (read-only: it is shared). Sums as products with ones run in BLAS:
    _ones(len(M)) @ M (the column sums of M) costs half of np.add.reduce(M, 0) at small sizes,
    where numpy's reduction setup dominates, and less at large ones too. (np.dot(ones, M) is
    faster still at small sizes but can be 40x slower than both at 1024 x 1024.)"""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones


def unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum g (shape of a broadcast result) down to `shape`: the vjp of broadcasting."""
    if g.shape == shape:
        return g
    leading = g.ndim - len(shape)  # axes that broadcasting added in front
    if g.shape[leading:] == shape:  # e.g. a bias (k,) added to a batch (n, k)
        if g.ndim == 2 and leading == 1:
            return _ones(len(g)) @ g  # = np.add.reduce(g, 0), faster (see _ones)
        return np.add.reduce(g, axis=tuple(range(leading)))
    stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1)  # size 1, stretched
    return np.add.reduce(g, axis=tuple(range(leading)) + stretched).reshape(shape)


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

    def backward(self, gradient: Any = None) -> None:
        """Fill .grad = dself/dnode on every tensor of the graph that requires a gradient.

        `gradient` seeds dL/dself (default ones; a scalar loss needs none). Earlier .grad values
        of this graph are replaced, so calling backward twice gives the same result.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not depend on any tensor with "
                               "requires_grad=True, so there is nothing to differentiate")
        seed = np.array(1.0 if gradient is None else gradient, dtype=np.float64)  # a copy
        shape = self.data.shape
        self.grad = seed if seed.shape == shape else np.broadcast_to(seed, shape).copy()
        # Reverse topological order without sorting the graph first: `waiting` is a heap of the
        # ops that have received some gradient, newest first (keyed by -created). Every consumer
        # of an op was made after it, so when an op comes off the heap all its gradient is in.
        waiting = [(-self.created, self)] if self.parents else []
        reached = {self}  # tensors whose .grad this call has set
        # What a `backward_pass(node)` would do is written out in the loop: at small sizes a call
        # per node costs as much as the numpy work.
        while waiting:
            node = heappop(waiting)[1]
            values = node.parent_values
            # vjp(g, *values), spelled out for ops of two and of one input (twice as fast)
            if len(values) == 2:
                grads = node.vjp(node.grad, values[0], values[1])
            elif len(values) == 1:
                grads = node.vjp(node.grad, values[0])
            else:
                grads = node.vjp(node.grad, *values)
            for parent, needed, g in zip(node.parents, node.needs, grads):
                if not needed:
                    continue
                if parent in reached:
                    parent.grad = parent.grad + g  # a new array: g may be another's gradient
                elif parent.parents:
                    reached.add(parent)  # its first gradient replaces one from an earlier call
                    parent.grad = g
                    heappush(waiting, (-parent.created, parent))
                else:
                    reached.add(parent)
                    # a leaf's .grad is the user's: give it its own array, never a view of (or
                    # the very) upstream gradient another tensor also holds
                    parent.grad = g.copy() if g is node.grad or g.base is not None else g


class Op(Tensor):
    """Base of every op: records its inputs, computes `func`, knows which inputs need grads.

    `parents` are the inputs as given, `parent_values` their raw arrays (what func and vjp get),
    `needs[i]` whether input i requires a gradient.
    """

    __slots__ = ("parent_values", "needs")

    def __init__(self, *inputs: Any) -> None:
        values, needs, requires_grad = [], [], False
        for x in inputs:
            if isinstance(x, Tensor):
                values.append(x.data)
                needs.append(x.requires_grad)
                requires_grad = requires_grad or x.requires_grad
            else:
                values.append(_constant(x))
                needs.append(False)
        self.parents = inputs
        self.parent_values = tuple(values)
        self.needs = tuple(needs)
        self.requires_grad = requires_grad
        self.grad = None
        self.created = next(_creation_counter)
        self.data = self.func(*values)

    def func(self, *inputs: Any) -> Array:
        raise NotImplementedError

    def vjp(self, g: Array, *inputs: Any) -> Sequence[Array | None]:
        raise NotImplementedError


def _constant(x: Any) -> Any:
    """An input that is not a Tensor: an array (labels stay integers), never differentiated."""
    return x if isinstance(x, np.ndarray) else np.asarray(x, np.float64)


# Ops of one and of two inputs, the same as Op spelled out without the loop: making an op runs
# once per op in the forward pass and dominates the cost at small sizes.

class UnaryOp(Op):
    """An op of one input."""

    __slots__ = ()

    def __init__(self, a: Any) -> None:
        if isinstance(a, Tensor):
            value, needs = a.data, a.requires_grad
        else:
            value, needs = _constant(a), False
        self.parents = (a,)
        self.parent_values = (value,)
        self.needs = (needs,)
        self.requires_grad = needs
        self.grad = None
        self.created = next(_creation_counter)
        self.data = self.func(value)


class BinaryOp(Op):
    """An op of two inputs."""

    __slots__ = ()

    def __init__(self, a: Any, b: Any) -> None:
        if isinstance(a, Tensor):
            a_value, a_needs = a.data, a.requires_grad
        else:
            a_value, a_needs = _constant(a), False
        if isinstance(b, Tensor):
            b_value, b_needs = b.data, b.requires_grad
        else:
            b_value, b_needs = _constant(b), False
        self.parents = (a, b)
        self.parent_values = (a_value, b_value)
        self.needs = (a_needs, b_needs)
        self.requires_grad = a_needs or b_needs
        self.grad = None
        self.created = next(_creation_counter)
        self.data = self.func(a_value, b_value)


class _add(BinaryOp):
    """C = A + B (broadcasting);  dA = g, dB = g, each summed to its input's shape."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a + b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array | None, Array | None]:
        a_needs, b_needs = self.needs
        # unbroadcast(g, shape) returns g when the shapes agree; testing that here first saves
        # a call in the common case
        return ((g if a.shape == g.shape else unbroadcast(g, a.shape)) if a_needs else None,
                (g if b.shape == g.shape else unbroadcast(g, b.shape)) if b_needs else None)


class _neg(UnaryOp):
    """C = -A;  dA = -g."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return -a

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (-g,)


class _sub(BinaryOp):
    """C = A - B (broadcasting);  dA = g, dB = -g, each summed to its input's shape."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a - b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array, Array]:
        return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


class _mul(BinaryOp):
    """C = A * B (broadcasting);  dA = g * B, dB = g * A."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a * b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array, Array]:
        return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


class _div(BinaryOp):
    """C = A / B (broadcasting);  dA = g / B, dB = -g A / B^2."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a / b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array, Array]:
        return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


class _pow(BinaryOp):
    """C = A ** B;  dA = g B A^(B-1), dB = g A^B log A (only when B needs a gradient)."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return np.power(a, b)

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array | None, Array | None]:
        da = unbroadcast(g * b * np.power(a, b - 1.0), a.shape) if self.needs[0] else None
        db = unbroadcast(g * self.data * np.log(a), b.shape) if self.needs[1] else None
        return da, db


class _matmul(BinaryOp):
    """C = A @ B with A (n, k), B (k, m) or (k,);  dA = g @ B^T, dB = A^T @ g."""

    __slots__ = ()

    def func(self, a: Array, b: Array) -> Array:
        return a @ b

    def vjp(self, g: Array, a: Array, b: Array) -> tuple[Array | None, Array | None]:
        a_needs, b_needs = self.needs
        if b.ndim == 1:
            return np.outer(g, b) if a_needs else None, a.T @ g if b_needs else None
        return g @ b.T if a_needs else None, a.T @ g if b_needs else None


class _exp(UnaryOp):
    """C = exp(A);  dA = g * C."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.exp(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * self.data,)


class _log(UnaryOp):
    """C = log(A);  dA = g / A."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.log(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g / a,)


class _sin(UnaryOp):
    """C = sin(A);  dA = g * cos(A)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.sin(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * np.cos(a),)


class _cos(UnaryOp):
    """C = cos(A);  dA = -g * sin(A)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.cos(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (-g * np.sin(a),)


class _tanh(UnaryOp):
    """C = tanh(A);  dA = g * (1 - C^2)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.tanh(a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * (1.0 - self.data * self.data),)


class _sigmoid(UnaryOp):
    """C = 1 / (1 + exp(-A)) (computed without overflow);  dA = g * C (1 - C)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return 0.5 * (1.0 + np.tanh(0.5 * a))

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * self.data * (1.0 - self.data),)


class _relu(UnaryOp):
    """C = max(A, 0);  dA = g where A > 0, else 0."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return np.maximum(a, 0.0)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * (a > 0.0),)


class _log_sigmoid(UnaryOp):
    """C = log sigmoid(A) = -log(1 + exp(-A));  dA = g * sigmoid(-A)."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return -np.logaddexp(0.0, -a)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g * 0.5 * (1.0 - np.tanh(0.5 * a)),)


class _sum(UnaryOp):
    """C = sum of A over `axis` (all by default);  dA = g broadcast back to A's shape."""

    __slots__ = ("axis", "keepdims")

    def __init__(self, a: Any, axis: int | tuple[int, ...] | None = None,
                 keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims
        super().__init__(a)

    def func(self, a: Array) -> Array:
        return np.add.reduce(a, axis=self.axis, keepdims=self.keepdims)  # = np.sum, one call less

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


class _reshape(UnaryOp):
    """C = A reshaped;  dA = g reshaped back."""

    __slots__ = ("new_shape",)

    def __init__(self, a: Any, shape: Any) -> None:
        self.new_shape = shape
        super().__init__(a)

    def func(self, a: Array) -> Array:
        return np.reshape(a, self.new_shape)

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g.reshape(a.shape),)


class _transpose(UnaryOp):
    """C = A^T (axes reversed);  dA = g^T."""

    __slots__ = ()

    def func(self, a: Array) -> Array:
        return a.T

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g.T,)


class _log_softmax(UnaryOp):
    """C = A - logsumexp(A) along `axis`;  dA = g - softmax(A) * sum(g) along axis."""

    __slots__ = ("axis",)

    def __init__(self, a: Any, axis: int = -1) -> None:
        self.axis = axis
        super().__init__(a)

    def func(self, a: Array) -> Array:
        shifted = a - np.maximum.reduce(a, axis=self.axis, keepdims=True)
        return shifted - np.log(np.add.reduce(np.exp(shifted), axis=self.axis, keepdims=True))

    def vjp(self, g: Array, a: Array) -> tuple[Array]:
        return (g - np.exp(self.data) * np.add.reduce(g, axis=self.axis, keepdims=True),)


class _softmax_cross_entropy(BinaryOp):
    """L = mean_i -log softmax(S_i)[y_i] for logits S (n, k) and integer labels y (n,);
    dS = g (softmax(S) - onehot(y)) / n."""

    __slots__ = ("probabilities", "picked")

    def func(self, scores: Array, labels: Array) -> Array:
        # a new array in C order (so .ravel() is a view), ours to overwrite
        shifted = np.ascontiguousarray(scores) - np.maximum.reduce(scores, axis=1, keepdims=True)
        # The flat positions of the entries (i, y_i): indexing the raveled array with one index
        # array costs a third of indexing with the pair (rows, labels).
        self.picked = _flat_positions(labels, shifted.shape)
        correct = shifted.ravel()[self.picked]  # S_iy_i - max_j S_ij, a copy
        exps = np.exp(shifted, out=shifted)  # in place: saves allocating at small sizes
        sums = exps @ _ones(exps.shape[1])  # the row sums (see _ones)
        exps /= sums[:, None]
        self.probabilities = exps
        return np.add.reduce(np.log(sums) - correct) / len(labels)

    def vjp(self, g: Array, scores: Array, labels: Array) -> tuple[Array, None]:
        scale = float(g) / len(labels)  # g is 0-d (L is a scalar); a float is cheaper to apply
        d = self.probabilities * scale
        d.ravel()[self.picked] -= scale  # the onehot(y) term
        return d, None


class _multiclass_hinge(BinaryOp):
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


@lru_cache(maxsize=32)
def _row_numbers(n: int) -> Array:
    """0, 1, ..., n-1, made once per n (read-only: it is shared)."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def _flat_positions(labels: Array, shape: tuple[int, int]) -> Array:
    """Positions of the entries (i, labels[i]) in an array of `shape` raveled in C order; raises
    if a label is not in range(shape[1]) or labels is not one per row."""
    if labels.shape != shape[:1]:
        raise ValueError(f"expected one integer label per row, shape {shape[:1]}; "
                         f"got shape {labels.shape}")
    return np.ravel_multi_index((_row_numbers(shape[0]), labels), shape)


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
