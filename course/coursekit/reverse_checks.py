"""Checks for reverse mode: `backward_pass` (one node) and `backward` (the whole graph).

Every graph here is built from the kit's own ops, made as subclasses of *your* `AutogradValue`
base class (see :func:`kit_ops`), so each check depends only on the function it checks: a wrong
`_mul.grads` never costs you the `backward_pass` points, and a wrong `backward_pass` never costs
you the `backward` points. The kit's ops are functions no exercise asks for (``atan``,
``asinh``, ``hypot``, ``atan2``), so nothing in this module is the answer to an exercise.

What is checked, and the message you get when it fails:

* `backward_pass(node)` adds ``node.grad * d node / d parent`` into every parent that is an
  `AutogradValue` (constants are skipped), leaves ``node.grad`` alone, and works on numpy arrays.
  The expected sums come from the kit's own partial derivatives of its ops at the inputs it chose.
* `backward(output)` is checked by what it does, watched call by call. While `backward` is checked,
  each node's ``backward_pass()`` is the kit's: it notes which node was called and the ``grad`` of
  every node at that moment, and passes nothing on. From those notes:

  - the order: ``node.backward_pass()`` once per node, the output first, every node after all the
    nodes that use it (reverse topological order), no node left out (variables may be), constants
    skipped without error;
  - the reset: every node starts with a stale ``grad`` left "from earlier work", and at the first
    ``backward_pass`` call every ``grad`` must be 0 except the output's;
  - the seed: the output's ``grad`` is 1.0 at that first call, and no ``grad`` changes between or
    after the calls (`backward` itself only resets, seeds and calls ``backward_pass``).

  That is what a correct gradient needs from `backward`: with a correct push (checked above), the
  reverse topological order makes every node's ``grad`` complete before it is passed on, the reset
  stops old gradients leaking in, and the seed starts the sum. So "gradient correctness" of
  `backward` here means exactly order + reset + seed; nothing is pushed by the kit.
* the order on seeded random graphs in which nodes are reused (also twice by one op);
* a chain of 10,000 ops (no recursion: Python stops after about 1,000 nested calls);
* a second call on the same graph, after the first left gradients behind, resets and runs again.

How the grader decides (see :mod:`coursekit.core`): each check's probe builds the graph in your
kernel, runs your function and returns plain data (node indices in the kit's own list of the
graph's nodes, -1 for an object that is not one of them; gradients as float arrays); the judgement
decides from that data alone. Expected values never come from your code; a passing check prints
nothing.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from coursekit.checks import ATOL, RTOL, close
from coursekit.core import (
    CheckFailure,
    ErrorHint,
    Probe,
    RecordError,
    as_float_array,
    fmt,
    is_float_array,
    is_int,
    is_int_array,
    is_str,
    items,
    judgement,
    list_of,
    observe,
    one_of,
    probe,
)

#: Length of the chain that catches a recursive walk (Python's default limit is ~1,000 calls).
CHAIN_LENGTH = 10_000
#: The stale gradient every node of the long chain starts with.
CHAIN_STALE = 0.25


# ----------------------------------------------------------------------------- kit ops


def _atan_partials(a: Any) -> tuple[Any, ...]:
    return (1.0 / (1.0 + a * a),)


def _asinh_partials(a: Any) -> tuple[Any, ...]:
    return (1.0 / np.sqrt(1.0 + a * a),)


def _hypot_partials(a: Any, b: Any) -> tuple[Any, ...]:
    h = np.hypot(a, b)
    return a / h, b / h


def _atan2_partials(a: Any, b: Any) -> tuple[Any, ...]:
    r2 = a * a + b * b
    return b / r2, -a / r2


#: name -> (numpy function, local partial derivatives, symbol for labels). None of these is an
#: op an exercise grades, and none of their partials is the answer to one.
_OPS: dict[str, tuple[Callable[..., Any], Callable[..., tuple[Any, ...]], str]] = {
    "atan": (np.arctan, _atan_partials, "atan({})"),
    "asinh": (np.arcsinh, _asinh_partials, "asinh({})"),
    "hypot": (np.hypot, _hypot_partials, "hypot({}, {})"),
    "atan2": (np.arctan2, _atan2_partials, "atan2({}, {})"),
}


def kit_ops(base: type, recorder: Callable[[Any], None] | None = None) -> SimpleNamespace:
    """The kit's op classes as subclasses of your `base` class (e.g. ``kit_ops(AutogradValue)``),
    and ``var``, a variable of that base.

    A kit node's ``backward_pass()`` passes nothing on: it only calls ``recorder(node)`` when a
    recorder is given (a check of `backward` watches the calls that way).
    """

    def backward_pass(self):
        if recorder is not None:
            recorder(self)

    namespace = {}
    for name, (func, grads, _) in _OPS.items():
        namespace[name] = type(f"kit_{name}", (base,), {
            "func": lambda self, *args, _f=func: _f(*args),
            "grads": lambda self, *args, _g=grads: _g(*args),
            "backward_pass": backward_pass,
            "__module__": __name__,
        })
    namespace["var"] = type("kit_var", (base,), {
        "backward_pass": backward_pass, "__module__": __name__})
    return SimpleNamespace(**namespace)


# ----------------------------------------------------------------------------- expression graphs


@dataclass
class Program:
    """An expression written as a list of steps; runs on numpy floats or on graph nodes.

    ``steps[k] = (op name, operand references)``; a reference is ``("input", i)``,
    ``("node", j)`` for the result of an earlier step, or ``("const", value)``.
    The output is the last step. The same node can be used by several later steps (reuse).

    The graph's nodes, as the checks number them: the inputs ``x0, x1, ...`` first (indices
    ``0 .. n_inputs - 1``), then one node per step (``n_inputs + k`` for step ``k``).
    """

    n_inputs: int
    steps: list[tuple[str, tuple[tuple[str, Any], ...]]] = field(default_factory=list)
    #: the values of the inputs
    point: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def labels(self) -> list[str]:
        """One label per step."""
        names = [f"x{i}" for i in range(self.n_inputs)]
        out = []
        for k, (op, refs) in enumerate(self.steps):
            parts = []
            for kind, ref in refs:
                if kind == "input":
                    parts.append(names[ref])
                elif kind == "node":
                    parts.append(f"n{ref}")
                else:
                    parts.append(f"{ref:g}")
            out.append(f"n{k} = " + _OPS[op][2].format(*parts))
        return out

    def node_labels(self) -> list[str]:
        """One label per node: the inputs, then the steps."""
        return [f"x{i}" for i in range(self.n_inputs)] + self.labels()

    def parents(self) -> list[list[int]]:
        """For each node, the indices of its parents that are nodes (constants left out)."""
        out: list[list[int]] = [[] for _ in range(self.n_inputs)]
        for _, refs in self.steps:
            out.append([ref if kind == "input" else self.n_inputs + ref
                        for kind, ref in refs if kind != "const"])
        return out

    def text(self) -> str:
        return "; ".join(self.labels())

    def values(self, *inputs: Any) -> list[Any]:
        """The value of every step, computed with numpy."""
        values: list[Any] = []
        for op, refs in self.steps:
            args = [self._fetch(inputs, values, r) for r in refs]
            values.append(_OPS[op][0](*args))
        return values

    def evaluate(self, *inputs: Any) -> Any:
        """The output value, computed with numpy."""
        return self.values(*inputs)[-1]

    def build(self, ops: SimpleNamespace, variables: Sequence[Any]) -> list[Any]:
        """Every step's node (one per step) made with the op classes ``ops``."""
        nodes: list[Any] = []
        for label, (op, refs) in zip(self.labels(), self.steps):
            node = getattr(ops, op)(*[self._fetch(variables, nodes, r) for r in refs])
            node.label = label
            nodes.append(node)
        return nodes

    def data(self) -> list[Any]:
        """The program as plain data (a probe's input): [n_inputs, steps, point]."""
        return [self.n_inputs, [[op, [list(ref) for ref in refs]] for op, refs in self.steps],
                np.asarray(self.point, dtype=np.float64)]

    @classmethod
    def from_data(cls, data: Sequence[Any]) -> Program:
        """The inverse of :meth:`data`; ValueError for anything else."""
        n_inputs, steps, point = data
        program = cls(int(n_inputs), point=np.asarray(point, dtype=np.float64))
        for op, refs in steps:
            if op not in _OPS or not all(kind in ("input", "node", "const") for kind, _ in refs):
                raise ValueError("not a program of the kit's ops")
            program.steps.append((op, tuple((kind, ref) for kind, ref in refs)))
        return program

    @staticmethod
    def _fetch(inputs: Sequence[Any], values: Sequence[Any], ref: tuple[str, Any]) -> Any:
        kind, index = ref
        if kind == "input":
            return inputs[index]
        if kind == "node":
            return values[index]
        return index


def random_program(seed: int, n_inputs: int = 3, n_steps: int = 14) -> Program:
    """A seeded random expression with reused nodes and constants, values of moderate size.

    Every input and every step is used by a later step, so the output depends on all of them;
    some nodes are used two or three times, and ``hypot(n, n)`` (the same parent twice) occurs.
    """
    rng = np.random.default_rng(seed)
    binary = ["hypot", "atan2", "hypot", "atan2"]
    unary = ["atan", "asinh"]
    for _ in range(1000):
        program = Program(n_inputs)
        pool: list[tuple[str, Any]] = [("input", i) for i in range(n_inputs)]
        unused = list(pool)
        for _step in range(n_steps):
            if rng.random() < 0.55:
                op = str(rng.choice(binary))
                first = unused.pop(0) if unused else pool[rng.integers(len(pool))]
                draw = rng.random()
                if draw < 0.15:
                    second = first  # the same node twice: both partials must be added
                elif draw < 0.35:
                    second = ("const", float(np.round(rng.uniform(0.5, 2.0), 2)))
                else:
                    second = pool[rng.integers(len(pool))]
                refs = (second, first) if rng.random() < 0.5 else (first, second)
            else:
                op = str(rng.choice(unary))
                refs = (unused.pop(0) if unused else pool[rng.integers(len(pool))],)
            program.steps.append((op, refs))
            node = ("node", len(program.steps) - 1)
            pool.append(node)
            unused.append(node)
        while len(unused) > 1:  # fold every unused result into the output
            pair = (unused.pop(0), unused.pop(0))
            program.steps.append(("hypot" if rng.random() < 0.5 else "atan2", pair))
            unused.append(("node", len(program.steps) - 1))
        program.point = rng.uniform(-1.5, 1.5, n_inputs)
        with np.errstate(all="ignore"):
            values = program.values(*program.point)
        if np.all(np.isfinite(values)) and np.all(np.abs(values) < 50):
            return program
    raise RuntimeError(f"random_program: no well-behaved expression for seed {seed}")


def _diamond_program() -> Program:
    """x0, x1; n0 = hypot(x0, x1) is used three times, one op has a constant input."""
    program = Program(2)
    program.steps = [
        ("hypot", (("input", 0), ("input", 1))),   # n0 = hypot(x0, x1)
        ("atan", (("node", 0),)),                   # n1 = atan(n0)
        ("atan2", (("node", 0), ("const", 2.0))),   # n2 = atan2(n0, 2)
        ("hypot", (("node", 1), ("node", 2))),      # n3 = hypot(n1, n2)
        ("atan2", (("node", 3), ("node", 0))),      # n4 = atan2(n3, n0)
    ]
    program.point = np.array([0.7, -1.3])
    return program


# ----------------------------------------------------------------------------- messages


def _graph_hint(on_arrays: bool = False) -> ErrorHint:
    """The extra sentence for code that raised while walking or pushing through a graph."""

    def hint(type_name: str, message: str) -> str:
        if type_name == "AttributeError" and "float" in message:
            return (" A parent can be a plain number (a constant): check "
                    "`isinstance(parent, AutogradValue)` before using its `.grad` or `.parents`.")
        if on_arrays:
            return (" The values here are numpy arrays (every op works elementwise): keep grads "
                    "as they come, without float(...) or the math module.")
        return ""

    return hint


def _short(x: Any) -> str:
    return fmt(x)


# ----------------------------------------------------------------------------- backward_pass


def _push_hint(got, before, upstream, local, other_local) -> str:
    if np.all(close(got, upstream * local)) and not np.all(close(got, before + upstream * local)):
        return "you replaced parent.grad instead of adding to it (use parent.grad + ...)"
    if np.all(close(got, before)):
        return "parent.grad did not change — did you skip this parent, or add 0?"
    if np.all(close(got, before + local)) and not np.all(close(upstream, 1.0)):
        return "the upstream factor node.grad is missing (chain rule: node.grad * local partial)"
    if other_local is not None and np.all(close(got, before + upstream * other_local)):
        return "it is the other input's partial — pair each parent with its own partial (zip)"
    if np.all(close(got, before - upstream * local)):
        return "the sign is flipped"
    return "expected parent.grad + node.grad * (d node / d parent)"


#: The single-node cases of check_backward_pass: (op, operands, description, on arrays).
#: An operand is "x" or "y" (a variable) or a plain number (a constant).
_PUSH_CASES: tuple[tuple[str, tuple[Any, ...], str, bool], ...] = (
    ("hypot", ("x", "y"), "hypot(x, y)", False),
    ("atan2", ("x", "y"), "atan2(x, y)", False),
    ("atan2", ("y", "x"), "atan2(y, x)", False),
    ("atan", ("x",), "atan(x)", False),
    ("asinh", ("y",), "asinh(y)", False),
    ("hypot", ("x", 2.5), "hypot(x, 2.5) (a constant)", False),
    ("atan2", (3.0, "y"), "atan2(3.0, y) (a constant)", False),
    ("hypot", ("x", "x"), "hypot(x, x) (the same parent twice)", False),
    ("atan2", ("x", "y"), "atan2(x, y) on numpy arrays", True),
)


@judgement
def check_backward_pass(backward_pass: Callable[[Any], Any], base: type, seed: int = 4) -> None:
    """Check ``backward_pass(node)`` on single nodes of the kit's ops made from ``base``.

    Each parent starts with a nonzero ``grad`` (so overwriting instead of adding shows) and
    ``node.grad`` is random (so a missing chain factor shows); ``seed`` draws the numbers. The
    expected sums use the kit's own partial derivatives of its ops.
    """
    rng = np.random.default_rng(seed)
    for op, operands, description, on_arrays in _PUSH_CASES:
        def like(v, on_arrays=on_arrays):
            return np.array([v, 0.5 * v, -1.3 * v]) if on_arrays else float(v)

        values = dict(zip("xy", (like(v) for v in rng.uniform(0.6, 2.2, 2) * np.array([1, -1]))))
        before = dict(zip("xy", (like(g) for g in rng.uniform(-1, 1, 2))))
        upstream = like(rng.uniform(0.3, 1.7))
        _check_one_push(backward_pass, base, op, operands, description, on_arrays,
                        values, before, upstream, seed)
    _check_variable_push(backward_pass, base, seed)


def _check_one_push(backward_pass, base, op, operands, description, on_arrays,
                    values, before, upstream, seed) -> None:
    names = [n for n in "xy" if n in operands]
    where = (
        f"node {description} with " + ", ".join(
            f"{n}={_short(values[n])} (grad {_short(before[n])} before)" for n in names
        ) + f" and node.grad={_short(upstream)}"
    )

    got = observe(f"backward_pass, seed {seed}, {description}",
                  Probe(push_at, backward_pass=backward_pass, base=base, op=op,
                        operands=list(operands), values=values, before=before,
                        upstream=upstream, where=where),
                  "backward_pass(node)", where, _graph_hint(on_arrays))
    if not (isinstance(got, list) and len(got) == 1 + len(names) and all(
            isinstance(g, np.ndarray) and g.dtype.kind == "f" for g in got)):
        raise RecordError(f"the grader's record of backward_pass at {where} is not the grads")
    got_upstream, got_leaves = got[0], dict(zip(names, got[1:]))
    upstream_array = np.asarray(upstream, dtype=np.float64)
    if got_upstream.shape != upstream_array.shape or not np.all(
            close(got_upstream, upstream_array)):
        raise CheckFailure(
            f"backward_pass changed node.grad itself (from {_short(upstream)} to "
            f"{_short(got_upstream)}) at {where}; it should only add into the parents' grads."
        )
    arguments = [np.asarray(values[o] if isinstance(o, str) else o, dtype=np.float64)
                 for o in operands]
    local = _OPS[op][1](*arguments)
    partial_of: dict[str, list[np.ndarray]] = {}
    for operand, partial in zip(operands, local):
        if isinstance(operand, str):
            partial_of.setdefault(operand, []).append(np.asarray(partial, dtype=np.float64))
    for n in names:
        exp = np.asarray(before[n], dtype=np.float64) + upstream_array * sum(partial_of[n])
        got_n = got_leaves[n]
        if got_n.shape != exp.shape and got_n.size != 1:
            raise CheckFailure(
                f"after backward_pass, {n}.grad has shape {got_n.shape} at {where}; "
                f"expected shape {exp.shape} (like {n}.value)."
            )
        got_n = np.broadcast_to(got_n, exp.shape)
        if np.all(close(got_n, exp, RTOL, ATOL)):
            continue
        partials = partial_of[n]
        others = [p[0] for m, p in partial_of.items() if m != n]
        hint = _push_hint(got_n, np.asarray(before[n], dtype=np.float64), upstream_array,
                          sum(partials), others[0] if others else None)
        if len(partials) > 1:
            hint = (f"{n} is both inputs of this node, so it gets both contributions "
                    "(one per input, added together)")
        raise CheckFailure(
            f"after backward_pass(node), {n}.grad is wrong at {where}: expected "
            f"{_short(exp)}, got {_short(got_n)} — {hint}."
        )


@probe(returns=list_of(is_float_array))
def push_at(backward_pass: Callable[[Any], Any], base: type, op: str, operands: list,
            values: dict, before: dict, upstream: Any, where: str) -> list[Any]:
    """[node.grad, then each variable's grad] after ``backward_pass(node)`` on one kit node
    ``op(*operands)`` whose variables hold ``values`` and grads ``before``."""
    ops = kit_ops(base)
    names = [n for n in "xy" if n in operands]
    leaves = {n: base(copy.copy(values[n])) for n in names}
    for n, leaf in leaves.items():  # copies: an in-place `parent.grad += ...` stays local
        leaf.grad = copy.copy(before[n])
    node = getattr(ops, op)(*[leaves[o] if isinstance(o, str) else o for o in operands])
    node.grad = copy.copy(upstream)
    backward_pass(node)
    return [as_float_array(node.grad, "node.grad after backward_pass", where)] + [
        as_float_array(leaves[n].grad, f"{n}.grad after backward_pass", where) for n in names]


@probe(returns=is_float_array)
def variable_push(backward_pass: Callable[[Any], Any], base: type) -> np.ndarray:
    """x.grad after ``backward_pass(x)`` on a variable x = base(1.5) with grad 0.75."""
    leaf = base(1.5)
    leaf.grad = 0.75
    backward_pass(leaf)
    return as_float_array(leaf.grad, "x.grad", "a variable")


def _check_variable_push(backward_pass, base, seed) -> None:
    """A variable (a leaf) has a constant as its only parent: nothing happens, nothing fails."""
    where = "a variable x = AutogradValue(1.5)"
    got = observe(f"backward_pass, seed {seed}, a variable",
                  Probe(variable_push, backward_pass=backward_pass, base=base),
                  "backward_pass(x)", where, _graph_hint())
    if not (isinstance(got, np.ndarray) and got.dtype.kind == "f"):
        raise RecordError(f"the grader's record of backward_pass on {where} is not a grad")
    if not (got.size == 1 and np.all(close(got, 0.75))):
        raise CheckFailure(
            "backward_pass(x) on a variable x = AutogradValue(1.5) changed x.grad; a variable's "
            "only parent is the plain number it was made from, which must be skipped."
        )


# ----------------------------------------------------------------------------- watching backward


def _grad_vector(nodes: Sequence[Any]) -> np.ndarray:
    """Every node's grad as one float64 vector (nan where a grad is not a single number)."""
    out = np.full(len(nodes), np.nan)
    for i, node in enumerate(nodes):
        try:
            grad = np.asarray(node.grad, dtype=np.float64)
            if grad.size == 1:
                out[i] = grad.item()
        except Exception:  # noqa: BLE001  (your grad may be anything)
            pass
    return out


class _Watch:
    """The kit nodes' backward_pass calls on one graph: which node, and every grad then."""

    def __init__(self, nodes: Sequence[Any]):
        self.nodes = list(nodes)
        self.index = {id(node): i for i, node in enumerate(self.nodes)}
        self.cap = 4 * len(self.nodes) + 16  # enough to show any repeat; bounded data
        self.order: list[int] = []
        self.grads: list[np.ndarray] = []
        self.calls = 0

    def __call__(self, node: Any) -> None:
        self.calls += 1
        if len(self.order) < self.cap:
            self.order.append(self.index.get(id(node), -1))
            self.grads.append(_grad_vector(self.nodes))

    def data(self) -> list[Any]:
        """[order, grads at each call (calls x nodes), grads after backward, number of calls]."""
        return [np.array(self.order, dtype=np.int64),
                np.array(self.grads, dtype=np.float64).reshape(len(self.grads), len(self.nodes)),
                _grad_vector(self.nodes), self.calls]


def _stale(rng: np.random.Generator, n: int) -> np.ndarray:
    """Gradients "left from earlier work": distinct, nonzero, never 1."""
    return np.round(rng.uniform(2.0, 9.0, n), 2)


@contextlib.contextmanager
def _either_call(backward: Callable[[Any], Any]) -> Iterator[None]:
    """While ``backward`` runs, its call ``backward_pass(node)`` (the function, as the notebook
    defines it) reaches a kit node's own ``node.backward_pass()`` too, so both ways of calling
    it are watched alike (the kit's nodes are classes of this module)."""
    names = getattr(backward, "__globals__", None)
    original = names.get("backward_pass") if isinstance(names, dict) else None
    if not callable(original):
        yield
        return

    def routed(node: Any, *args: Any, **kwargs: Any) -> Any:
        if type(node).__module__ == __name__:
            return node.backward_pass()
        return original(node, *args, **kwargs)

    names["backward_pass"] = routed
    try:
        yield
    finally:
        names["backward_pass"] = original


@probe(returns=list_of(items(is_int_array, is_float_array, is_float_array, is_int)))
def watched_runs(backward: Callable[[Any], Any], base: type, program: list,
                 stale: Sequence[np.ndarray]) -> list[Any]:
    """Build the program (:meth:`Program.data`) from the kit's ops on ``base``; for each entry
    of ``stale``, set the nodes' grads to it and call ``backward(output)`` once, watching.
    Probe data, per call."""
    program = Program.from_data(program)
    holder: list[_Watch] = []
    ops = kit_ops(base, lambda node: holder[-1](node))
    variables = [ops.var(float(v)) for v in program.point]
    for i, variable in enumerate(variables):
        variable.label = f"x{i}"
    nodes = variables + program.build(ops, variables)
    runs = []
    for grads in stale:
        holder.append(_Watch(nodes))
        for node, grad in zip(nodes, grads):
            node.grad = float(grad)
        with _either_call(backward):
            backward(nodes[-1])
        runs.append(holder[-1].data())
    return runs


@judgement
def check_visit_order(order: Sequence[int], parents: Sequence[Sequence[int]],
                      labels: Sequence[str], graph: str, calls: int | None = None) -> None:
    """Judge the order of the backward_pass calls, as node indices (-1: not a node of the graph).

    ``parents[i]`` lists the indices of node ``i``'s parents that are nodes; the last node is
    the output. The order must be a reverse topological order: the output first, each node
    once, every node after all the nodes that use it, no node left out except variables (nodes
    without node parents), whose backward_pass does nothing. ``calls`` is the number of calls
    when ``order`` holds only the first of them.
    """
    order = [int(i) for i in order]
    calls = len(order) if calls is None else int(calls)
    n = len(parents)
    output = n - 1
    if not order:
        raise CheckFailure(
            f"backward never called node.backward_pass() on {graph}; call "
            "`node.backward_pass()` for each node of the graph (the tests watch those calls)."
        )
    if any(i < -1 or i >= n for i in order):
        raise RecordError(f"the grader's record of backward on {graph} names no node of it")
    if -1 in order:
        raise CheckFailure(
            f"backward called backward_pass() on an object that is not a node of {graph} "
            "(a copy, or a new AutogradValue?); call `node.backward_pass()` on the graph's own "
            "nodes, the ones you reach through `.parents` from the output."
        )
    position: dict[int, int] = {}
    for place, index in enumerate(order):
        if index in position:
            count = order.count(index)
            more = f" (and {calls} calls in all for {n} nodes)" if calls > len(order) else ""
            raise CheckFailure(
                f"backward processed node {labels[index]} {count} times on {graph}{more}; call "
                "backward_pass exactly once per node (a node used by several others must wait "
                "until all of them have been processed, then go once)."
            )
        position[index] = place
    if order[0] != output:
        raise CheckFailure(
            f"backward processed {labels[order[0]]} first on {graph}; the output "
            f"{labels[output]} must be processed first (its gradient is the seed)."
        )
    for index in range(n):
        if index not in position and parents[index]:
            raise CheckFailure(
                f"backward never processed node {labels[index]} on {graph}; every node the "
                "output depends on must get its backward_pass call."
            )
    for child in range(n):
        for parent in parents[child]:
            if parent in position and child in position and position[parent] < position[child]:
                raise CheckFailure(
                    f"node {labels[parent]} was processed before its child {labels[child]} on "
                    f"{graph}: backward must visit nodes in reverse topological order (a node "
                    "only after every node that uses it), or its gradient is still incomplete "
                    "when it is passed on."
                )


_ONLY_THAT = ("backward resets the grads, seeds output.grad = 1.0 and calls "
              "node.backward_pass() for each node; the adding is backward_pass's job.")


@judgement
def _judge_reset(grads: np.ndarray, final: np.ndarray, order: Sequence[int],
                 labels: Sequence[str], stale: np.ndarray, graph: str, left: str) -> None:
    """The grads at each backward_pass call and after backward: all 0, the output's 1.0.

    ``left`` says where the stale grads came from, for the message.
    """
    n = len(labels)
    output = n - 1
    expected = np.zeros(n)
    expected[output] = 1.0
    first = grads[0]
    for index in range(n):
        if not np.isfinite(first[index]):
            raise CheckFailure(
                f"when backward made its first backward_pass call on {graph}, node "
                f"{labels[index]} had a grad that is not a number (nan, inf, or not a single "
                "float): backward sets every grad to 0, then output.grad = 1.0.")
    for index in range(n - 1):
        if close(first[index], 0.0):
            continue
        if close(first[index], stale[index]):
            raise CheckFailure(
                f"when backward made its first backward_pass call on {graph}, node "
                f"{labels[index]} had grad {_short(first[index])}, {left}: the gradients were "
                "not reset. backward must first set the grad of every node in the graph to 0, "
                "so that calling it again gives the same gradients."
            )
        raise CheckFailure(
            f"when backward made its first backward_pass call on {graph}, node "
            f"{labels[index]} had grad {_short(first[index])}: neither 0 nor the "
            f"{_short(stale[index])} it had before, so backward itself wrote it. {_ONLY_THAT}"
        )
    if not close(first[output], 1.0):
        raise CheckFailure(
            f"output.grad is {_short(first[output])} when backward made its first backward_pass "
            f"call on {graph}; the seed d output / d output is 1.0 (set it after resetting the "
            "grads, before the first backward_pass)."
        )
    snapshots = [(f"at its backward_pass call number {k + 1} (on {labels[order[k]]})", g)
                 for k, g in enumerate(grads)] + [("after backward returned", final)]
    for when, snapshot in snapshots:
        for index in range(n):
            if not close(snapshot[index], expected[index]):
                raise CheckFailure(
                    f"node {labels[index]} had grad {_short(snapshot[index])} {when} on {graph}, "
                    f"not the {_short(expected[index])} it had at the first call. In this check "
                    f"the nodes pass nothing on, so backward itself changed it. {_ONLY_THAT}"
                )


def _is_array(value: Any, kind: str, ndim: int) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == kind and value.ndim == ndim


@judgement
def _judge_run(run: Any, program: Program, stale: np.ndarray, graph: str, left: str) -> None:
    labels = program.node_labels()
    n = len(labels)
    if not (isinstance(run, list) and len(run) == 4 and _is_array(run[0], "i", 1)
            and _is_array(run[1], "f", 2) and _is_array(run[2], "f", 1)
            and isinstance(run[3], int) and not isinstance(run[3], bool)):
        raise RecordError(f"the grader's record of backward on {graph} is not a watched run")
    order, grads, final, calls = run
    if grads.shape != (len(order), n) or final.shape != (n,) or calls < len(order):
        raise RecordError(f"the grader's record of backward on {graph} does not fit the graph")
    check_visit_order(order, program.parents(), labels, graph, calls)
    _judge_reset(np.asarray(grads), np.asarray(final), order, labels, stale, graph, left)


@judgement
def check_backward_on(backward: Callable[[Any], Any], base: type, program: Program,
                      name: str | None = None, label: str | None = None) -> None:
    """Run ``backward`` once on the graph of ``program`` (its nodes start with stale grads);
    judge the order of the backward_pass calls, the reset and the seed."""
    graph = name or (
        f"the graph {program.text()} at "
        + ", ".join(f"x{i}={v:.4g}" for i, v in enumerate(program.point))
    )
    n = program.n_inputs + len(program.steps)
    stale = _stale(np.random.default_rng(len(program.steps)), n)
    runs = observe(label or f"backward on {program.text()}",
                   Probe(watched_runs, finite=False, backward=backward, base=base,
                         program=program.data(), stale=[stale]),
                   "backward(output)", graph, _graph_hint())
    if not isinstance(runs, list) or len(runs) != 1:
        raise RecordError(f"the grader's record of backward on {graph} is not one run")
    _judge_run(runs[0], program, stale, graph, "left from earlier work")


@judgement
def check_backward_shapes(backward: Callable[[Any], Any], base: type) -> None:
    """Order, reset and seed on a small graph with a node used three times and a constant."""
    check_backward_on(backward, base, _diamond_program(), label="backward, the small graph")


@judgement
def check_backward_random(backward: Callable[[Any], Any], base: type,
                          seeds: Sequence[int] = (0, 1, 2)) -> None:
    """Order, reset and seed on seeded random graphs with reused nodes."""
    for seed in seeds:
        program = random_program(int(seed))
        check_backward_on(backward, base, program,
                          f"a random graph (seed {int(seed)}) {program.text()}",
                          label=f"backward, random graph seed {int(seed)}")


@judgement
def check_second_call(backward: Callable[[Any], Any], base: type) -> None:
    """A second backward() on the same output, after the first left gradients behind, resets
    them and runs in order again."""
    program = _diamond_program()
    n = program.n_inputs + len(program.steps)
    rng = np.random.default_rng(2)
    stale = [_stale(rng, n), _stale(rng, n)]
    graph = f"the graph {program.text()}"
    runs = observe("backward, twice on the small graph",
                   Probe(watched_runs, finite=False, backward=backward, base=base,
                         program=program.data(), stale=stale),
                   "backward(output)", graph, _graph_hint())
    if not isinstance(runs, list) or len(runs) != 2:
        raise RecordError(f"the grader's record of two backward calls on {graph} is not two")
    _judge_run(runs[0], program, stale[0], graph, "left from earlier work")
    _judge_run(runs[1], program, stale[1], f"{graph}, in a second backward(output)",
               "left by the first call")


@probe(returns=list_of(one_of(is_int, lambda v: isinstance(v, float))))
def chain_at(backward: Callable[[Any], Any], base: type, constants: np.ndarray,
             length: int) -> list[Any]:
    """What `backward` did on a chain of ``length`` kit atan2 nodes: [calls, first departure
    from the expected order, the node found there, the output's grad at the first call, how
    many stale grads were left, the first of them, its value]."""
    state = {"calls": 0, "departure": -1, "found": -2, "first": None}
    index: dict[int, int] = {}
    nodes: list[Any] = []

    def watch(node):
        at = state["calls"]
        state["calls"] += 1
        if at == 0:
            state["first"] = _grad_vector(nodes)
        if state["departure"] < 0:
            found = index.get(id(node), -1)
            if found != (length - at if at < length else 0 if at == length else -3):
                state["departure"], state["found"] = at, found

    ops = kit_ops(base, watch)
    node = ops.var(0.8)
    nodes.append(node)
    for c in constants:
        node = ops.atan2(node, float(c))
        nodes.append(node)
    index.update((id(n), i) for i, n in enumerate(nodes))
    for n in nodes:
        n.grad = CHAIN_STALE
    with _either_call(backward):
        backward(node)
    first = state["first"]
    if first is None:
        return [0, -1, -2, float("nan"), 0, -1, float("nan")]
    stale = np.flatnonzero(~close(first[:-1], 0.0))
    where = int(stale[0]) if stale.size else -1
    return [state["calls"], state["departure"], state["found"], float(first[-1]),
            int(stale.size), where, float(first[where]) if where >= 0 else 0.0]


@judgement
def check_long_chain(backward: Callable[[Any], Any], base: type,
                     length: int = CHAIN_LENGTH) -> None:
    """A chain of ``length`` ops y = atan2(...atan2(atan2(x, c1), c2)..., cL): no recursion
    limit, each op node once from the output down to x, grads reset and the output seeded."""
    length = int(length)
    constants = np.round(np.random.default_rng(10).uniform(0.5, 2.0, length), 3)
    graph = (f"a chain of {length:,} ops y = atan2(...atan2(atan2(x, c1), c2)..., cN) "
             "(x = 0.8)")

    data = observe(f"backward, a chain of {length}",
                   Probe(chain_at, finite=False, backward=backward, base=base,
                         constants=constants, length=length),
                   "backward(y)", graph, _graph_hint())
    if not (isinstance(data, list) and len(data) == 7
            and all(isinstance(v, int) and not isinstance(v, bool) for v in data[:3] + data[4:6])
            and all(isinstance(v, float) for v in (data[3], data[6]))):
        raise RecordError(f"the grader's record of backward on {graph} is not a chain's summary")
    calls, departure, found, seed_grad, n_stale, stale_at, stale_value = data
    if not (0 <= departure < calls or departure == -1) or not -1 <= stale_at < length:
        raise RecordError(f"the grader's record of backward on {graph} does not fit the chain")

    def name(i: int) -> str:
        return "x" if i == 0 else "y" if i == length else f"node {i}"

    if calls == 0:
        raise CheckFailure(
            f"backward never called node.backward_pass() on {graph}; call "
            "`node.backward_pass()` for each node of the graph (the tests watch those calls)."
        )
    if departure >= 0:
        if departure > length:
            raise CheckFailure(
                f"backward called backward_pass {calls:,} times on {graph}, which has "
                f"{length + 1:,} nodes; call it exactly once per node.")
        got = ("an object that is not a node of the chain" if found == -1
               else name(found) if 0 <= found <= length else "?")
        expected = name(length - departure) if departure < length else "x"
        raise CheckFailure(
            f"on {graph}, backward's backward_pass call number {departure + 1:,} was on {got}, "
            f"where the chain's only reverse topological order has {expected}: the output y "
            "first, then each node's parent in turn, down to x; each node once.")
    if calls < length:
        raise CheckFailure(
            f"backward called backward_pass only {calls:,} times on {graph}, from y down; "
            f"every one of the {length:,} op nodes needs its call.")
    if n_stale:
        raise CheckFailure(
            f"when backward made its first backward_pass call on {graph}, {n_stale:,} nodes "
            f"still had a grad left from earlier work ({name(stale_at)} had "
            f"{_short(stale_value)}): the gradients were not reset. backward must first set "
            "the grad of every node in the graph to 0.")
    if not close(seed_grad, 1.0):
        raise CheckFailure(
            f"output.grad is {_short(seed_grad)} when backward made its first backward_pass "
            f"call on {graph}; the seed d output / d output is 1.0 (set it after resetting the "
            "grads, before the first backward_pass).")


@judgement
def check_engine_backward(backward: Callable[[Any], Any], base: type) -> None:
    """Every backward check: the small graph, random graphs, a long chain and a second call."""
    check_backward_shapes(backward, base)
    check_backward_random(backward, base)
    check_long_chain(backward, base)
    check_second_call(backward, base)


# ----------------------------------------------------------------------------- a max gate

#: The cases of check_max_gate: (description, a, b). Entries with a == b are ties; elsewhere the
#: two inputs are at least 0.3 apart, so no finite step could cross from one side to the other.
_MAX_CASES: tuple[tuple[str, Any, Any], ...] = (
    ("a > b", 1.3, -0.4),
    ("a < b", -0.9, 0.6),
    ("a tie, a = b", 0.7, 0.7),
    ("a tie at a negative value", -1.1, -1.1),
    ("arrays with two ties", np.array([1.2, -0.4, 0.7, 2.0, -1.5]),
     np.array([0.3, 0.5, 0.7, 2.0, -0.2])),
)


def _max_hint(type_name: str, message: str) -> str:
    if "truth value" in message:
        return (" The inputs here are numpy arrays: an `if a > b:` on arrays is ambiguous; "
                "compare elementwise, e.g. with np.where(a > b, ..., ...) or (a > b) * 1.0.")
    return ""


@judgement
def check_max_gate(op: type, base: type, seed: int = 0) -> None:
    """Check the ``grads`` of a max gate ``op`` (a subclass of ``base`` whose func is
    ``np.maximum``): the whole upstream gradient goes to the larger input, none to the smaller;
    at a tie the two partials are each between 0 and 1 and add up to 1 (½ each is the usual
    split). ``seed`` shifts the points, so hidden tests see other numbers.

    Each node is built as an expression builds it, ``op(base(a), base(b))``, so ``grads`` may
    read ``self.value``.
    """
    shift = 0.37 * int(seed)
    for description, a0, b0 in _MAX_CASES:
        a, b = np.asarray(a0, dtype=np.float64) + shift, np.asarray(b0, dtype=np.float64) + shift
        if a.ndim == 0:
            a, b = float(a), float(b)
        where = f"a = {_short(a)}, b = {_short(b)}"

        got = observe(f"max gate, seed {int(seed)}, {description}",
                      Probe(max_gate_at, op=op, base=base, a=a, b=b, where=where),
                      "grads of your max gate", where, _max_hint)
        _judge_max(got, a, b, where)


@probe(returns=one_of(items(is_float_array, is_float_array), items(is_str, is_str, is_int)))
def max_gate_at(op: type, base: type, a: Any, b: Any, where: str) -> list[Any]:
    """The two partials of ``op(base(a), base(b)).grads(a, b)``, or why there are not two."""
    node = op(base(copy.copy(a)), base(copy.copy(b)))
    result = node.grads(copy.copy(a), copy.copy(b))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return ["not two", str(type(result).__name__),
                len(result) if isinstance(result, (tuple, list)) else -1]
    return [as_float_array(r, "your max gate's grads", where) for r in result]


@judgement
def _judge_max(got: Any, a: Any, b: Any, where: str) -> None:
    """Judge a max gate's partials (in your Jupyter, or in the grader's own process)."""
    if isinstance(got, list) and len(got) == 3 and got[0] == "not two":
        count = got[2]
        returned = f"{count} partial derivative(s)" if count >= 0 else f"a {got[1]}"
        raise CheckFailure(
            f"your max gate's grads returned {returned} at {where}; a max gate has two inputs, "
            "so return a tuple of two partials, (d max/da, d max/db).")
    if not (isinstance(got, list) and len(got) == 2
            and all(isinstance(g, np.ndarray) and g.dtype.kind == "f" for g in got)):
        raise RecordError(f"the grader's record of the max gate at {where} is not two partials")
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    shape = a_.shape
    parts = []
    for name, g in zip("ab", got):
        if g.shape != shape and g.size != 1:
            raise CheckFailure(
                f"your max gate's partial for {name} has shape {g.shape} at {where}; expected "
                f"shape {shape}, like the inputs (it works entry by entry).")
        parts.append(np.broadcast_to(g, shape))
    da, db = parts
    tie = a_ == b_
    larger_a = a_ > b_
    # away from ties: 1 for the input that is the output, 0 for the other
    want_a, want_b = np.where(larger_a, 1.0, 0.0), np.where(larger_a, 0.0, 1.0)
    off = ~tie
    bad = off & ~(close(da, want_a) & close(db, want_b))
    if np.any(bad):
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), shape) if shape else ()
        ga, gb, ea, eb = da[i], db[i], want_a[i], want_b[i]
        at = f"a = {_short(a_[i])}, b = {_short(b_[i])}"
        if close(ga, eb) and close(gb, ea):
            hint = ("the gradient went to the smaller input; a max gate routes all of it to "
                    "the larger input (the one that became the output) and none to the other")
        elif close(ga, 1.0) and close(gb, 1.0):
            hint = ("both inputs got 1, as through an add gate; only the larger input moves "
                    "the output, so the smaller one gets 0")
        elif close(ga, 0.0) and close(gb, 0.0):
            hint = "neither input got the gradient; the larger input gets all of it (partial 1)"
        else:
            hint = ("the partials of a max gate are 1 for the larger input and 0 for the "
                    "smaller one (the output is the larger input itself)")
        raise CheckFailure(
            f"your max gate's grads are wrong at {at}: expected (d/da, d/db) = "
            f"({_short(ea)}, {_short(eb)}), got ({_short(ga)}, {_short(gb)}) — {hint}.")
    if not np.any(tie):
        return
    total = da + db
    wrong = tie & ~(close(total, 1.0) & (da >= -ATOL) & (db >= -ATOL))
    if np.any(wrong):
        i = np.unravel_index(int(np.flatnonzero(wrong)[0]), shape) if shape else ()
        ga, gb = da[i], db[i]
        at = f"the tie a = b = {_short(a_[i])}" + (f" (entry {i} of arrays, {where})" if shape
                                                    else "")
        if close(ga + gb, 2.0):
            hint = ("both inputs got the whole gradient, so it would be counted twice: at a tie "
                    "split it, ½ each (or give all of it to one input)")
        elif close(ga + gb, 0.0) and close(ga, 0.0):
            hint = ("neither input got the gradient, so it is lost: at a tie split it, ½ each "
                    "(or give all of it to one input)")
        else:
            hint = ("at a tie each partial is between 0 and 1 and the two add up to 1 "
                    "(½ each is the usual split), so the whole gradient passes on exactly once")
        raise CheckFailure(
            f"your max gate's grads are ({_short(ga)}, {_short(gb)}) at {at} — {hint}.")
