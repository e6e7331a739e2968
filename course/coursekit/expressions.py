"""Expressions as data: a check's ``lambda x, y: ...`` traced once, then rebuilt anywhere.

A check of notebook 03 writes the expression to test as a function of the variables, e.g.
``lambda x, y: atan(hypot(x, y) + x) + (-y)``. Calling it with :class:`Symbol` variables records
the expression as a small tree of plain lists, which can be sent to a kernel as data;
:func:`evaluate` rebuilds it there on the student's ``ForwardValue`` (operators, methods, and
the kit's two helper ops ``atan`` and ``hypot``). A tree is only an expression: no expected
value, no reference and no code travels with it.

Trees: ``["var", i]``, ``["const", x]``, ``["binary", op, left, right]`` (op one of
:data:`BINARY`), ``["neg", a]``, ``["method", name, a]`` (name one of :data:`METHODS`),
``["helper", "atan" | "hypot", [a, ...]]``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "**": operator.pow,
}
METHODS = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "relu")
HELPERS = {"atan": 1, "hypot": 2}
MAX_NODES = 10_000


class Symbol:
    """A traced value: arithmetic and the op methods on it build a bigger tree."""

    def __init__(self, tree: list):
        self.tree = tree

    def _binary(self, op: str, other: Any, reverse: bool = False) -> Symbol:
        other_tree = as_tree(other)
        left, right = (other_tree, self.tree) if reverse else (self.tree, other_tree)
        return Symbol(["binary", op, left, right])

    def __add__(self, other): return self._binary("+", other)
    def __radd__(self, other): return self._binary("+", other, True)
    def __sub__(self, other): return self._binary("-", other)
    def __rsub__(self, other): return self._binary("-", other, True)
    def __mul__(self, other): return self._binary("*", other)
    def __rmul__(self, other): return self._binary("*", other, True)
    def __truediv__(self, other): return self._binary("/", other)
    def __rtruediv__(self, other): return self._binary("/", other, True)
    def __pow__(self, other): return self._binary("**", other)
    def __rpow__(self, other): return self._binary("**", other, True)
    def __neg__(self): return Symbol(["neg", self.tree])

    def __getattr__(self, name: str):
        if name not in METHODS:
            raise AttributeError(f"an expression in a check may use the methods "
                                 f"{', '.join(METHODS)}, not .{name}")
        return lambda: Symbol(["method", name, self.tree])


def as_tree(value: Any) -> list:
    """The tree of a Symbol, or of a plain number (a constant)."""
    if isinstance(value, Symbol):
        return value.tree
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ["const", float(value)]
    raise TypeError(f"an expression in a check may combine variables and numbers, not "
                    f"{type(value).__name__}")


def helper(name: str) -> Callable[..., Symbol]:
    """The traced form of the kit's helper op ``name`` (``atan`` or ``hypot``)."""
    def traced(*args: Any) -> Symbol:
        return Symbol(["helper", name, [as_tree(a) for a in args]])
    traced.__name__ = name
    return traced


def trace(build: Callable[..., Any], n_inputs: int) -> list:
    """The tree of ``build(x0, x1, ...)``."""
    return as_tree(build(*[Symbol(["var", i]) for i in range(n_inputs)]))


def evaluate(tree: Any, variables: list, helpers: dict[str, Callable[..., Any]]) -> Any:
    """Rebuild ``tree`` on ``variables`` (the student's values) with ``helpers``' ops.

    Raises ValueError for anything that is not a tree this module makes."""
    budget = [MAX_NODES]

    def walk(node: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > 200 or not isinstance(node, list) or not node:
            raise ValueError("not an expression tree")
        kind = node[0]
        if kind == "var" and len(node) == 2 and isinstance(node[1], int) \
                and 0 <= node[1] < len(variables):
            return variables[node[1]]
        if kind == "const" and len(node) == 2 and isinstance(node[1], float):
            return node[1]
        if kind == "binary" and len(node) == 4 and node[1] in BINARY:
            return BINARY[node[1]](walk(node[2], depth + 1), walk(node[3], depth + 1))
        if kind == "neg" and len(node) == 2:
            return -walk(node[1], depth + 1)
        if kind == "method" and len(node) == 3 and node[1] in METHODS:
            return getattr(walk(node[2], depth + 1), node[1])()
        if kind == "helper" and len(node) == 3 and node[1] in HELPERS \
                and isinstance(node[2], list) and len(node[2]) == HELPERS[node[1]]:
            return helpers[node[1]](*[walk(arg, depth + 1) for arg in node[2]])
        raise ValueError("not an expression tree")

    return walk(tree, 0)
