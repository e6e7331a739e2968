"""Checks for reverse mode: `backward_pass` (one node) and `backward` (the whole graph).

The graphs used here are built from the kit's own op classes, made as subclasses of *your*
`AutogradValue` base class (see :func:`kit_ops`), so these checks depend only on the function
being checked: a wrong `_mul.grads` never costs you the `backward` points, and a wrong
`backward_pass` never costs you the `backward` points either (while `backward` is checked, each
node's `backward_pass()` is replaced by the kit's, which also records the order of the calls).

What is checked, and the message you get when it fails:

* `backward_pass(node)` adds ``node.grad * d node / d parent`` into every parent that is an
  `AutogradValue` (constants are skipped), leaves ``node.grad`` alone, and works on numpy arrays;
* `backward(output)` resets the gradients of the graph, sets ``output.grad = 1.0``, and calls
  ``node.backward_pass()`` once per node, every node after all the nodes that use it (reverse
  topological order); constants are skipped without error;
* the gradients on seeded random expression graphs with reused nodes match central finite
  differences of the same expression computed with numpy floats;
* a chain of 10,000 ops works (no recursion), and a second call gives the same gradients.

Expected values never come from your code; a passing check prints nothing.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from coursekit.checks import (
    ATOL,
    RTOL,
    CheckFailure,
    as_float_array,
    close,
    finite_difference_partial,
)

#: Length of the chain that catches a recursive walk (Python's default limit is ~1,000 calls).
CHAIN_LENGTH = 10_000


# ----------------------------------------------------------------------------- kit ops


def _sigmoid(a: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-a))


#: name -> (numpy function, local partial derivatives, symbol for labels)
_OPS: dict[str, tuple[Callable[..., Any], Callable[..., tuple[Any, ...]], str]] = {
    "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0), "{} + {}"),
    "sub": (lambda a, b: a - b, lambda a, b: (1.0, -1.0), "{} - {}"),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a), "{} * {}"),
    "div": (lambda a, b: a / b, lambda a, b: (1.0 / b, -a / b**2), "{} / {}"),
    "sin": (np.sin, lambda a: (np.cos(a),), "sin({})"),
    "cos": (np.cos, lambda a: (-np.sin(a),), "cos({})"),
    "tanh": (np.tanh, lambda a: (1.0 - np.tanh(a) ** 2,), "tanh({})"),
    "exp": (np.exp, lambda a: (np.exp(a),), "exp({})"),
    "sigmoid": (_sigmoid, lambda a: (_sigmoid(a) * (1.0 - _sigmoid(a)),), "sigmoid({})"),
}


def _reference_push(node: Any, base: type) -> None:
    """The kit's backward_pass: parent.grad += node.grad * local partial, constants skipped."""
    local = node.grads(*node.parent_values)
    for parent, partial in zip(node.parents, local):
        if isinstance(parent, base):
            parent.grad = parent.grad + node.grad * partial


def kit_ops(base: type, recorder: list | None = None) -> SimpleNamespace:
    """The kit's op classes as subclasses of your `base` class (e.g. ``kit_ops(AutogradValue)``).

    With a ``recorder`` list, each node's ``backward_pass()`` appends the node to it and runs the
    kit's own push, so a check of `backward` sees the order of the calls and does not depend on
    your `backward_pass`. Every node gets a ``label`` used in messages.
    """
    namespace = {}
    for name, (func, grads, _) in _OPS.items():
        attributes: dict[str, Any] = {
            "func": lambda self, *args, _f=func: _f(*args),
            "grads": lambda self, *args, _g=grads: _g(*args),
            "__module__": __name__,
        }
        if recorder is not None:
            def backward_pass(self, _base=base):
                recorder.append(self)
                _reference_push(self, _base)

            attributes["backward_pass"] = backward_pass
        namespace[name] = type(f"kit_{name}", (base,), attributes)
    if recorder is not None:
        def leaf_backward_pass(self, _base=base):
            recorder.append(self)

        namespace["var"] = type("kit_var", (base,), {
            "backward_pass": leaf_backward_pass, "__module__": __name__})
    else:
        namespace["var"] = base
    return SimpleNamespace(**namespace)


def _label(node: Any) -> str:
    return getattr(node, "label", None) or f"a {type(node).__name__} node"


# ----------------------------------------------------------------------------- expression graphs


@dataclass
class Program:
    """An expression written as a list of steps; runs on numpy floats or on graph nodes.

    ``steps[k] = (op name, operand references)``; a reference is ``("input", i)``,
    ``("node", j)`` for the result of an earlier step, or ``("const", value)``.
    The output is the last step. The same node can be used by several later steps (reuse).
    """

    n_inputs: int
    steps: list[tuple[str, tuple[tuple[str, Any], ...]]] = field(default_factory=list)
    #: where the gradient is checked: one value per input
    point: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def labels(self) -> list[str]:
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
        """The output value, computed with numpy (the finite-difference reference)."""
        return self.values(*inputs)[-1]

    def build(self, ops: SimpleNamespace, variables: Sequence[Any]) -> list[Any]:
        """Every node of the graph (one per step) made with the op classes ``ops``."""
        nodes: list[Any] = []
        for label, (op, refs) in zip(self.labels(), self.steps):
            node = getattr(ops, op)(*[self._fetch(variables, nodes, r) for r in refs])
            node.label = label
            nodes.append(node)
        return nodes

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
    some nodes are used two or three times, and ``mul(n, n)`` (the same parent twice) occurs.
    """
    rng = np.random.default_rng(seed)
    binary = ["add", "sub", "mul", "mul", "div"]
    unary = ["sin", "cos", "tanh", "exp", "sigmoid"]
    for _ in range(1000):
        program = Program(n_inputs)
        pool: list[tuple[str, Any]] = [("input", i) for i in range(n_inputs)]
        unused = list(pool)
        for _step in range(n_steps):
            if rng.random() < 0.55:
                op = str(rng.choice(binary))
                first = unused.pop(0) if unused else pool[rng.integers(len(pool))]
                draw = rng.random()
                if op == "div":  # keep the denominator away from zero
                    second = ("const", float(np.round(rng.uniform(1.5, 3.0), 2)))
                elif draw < 0.15 and op in ("add", "mul"):
                    second = first  # the same node twice: both partials must be added
                elif draw < 0.35:
                    second = ("const", float(np.round(rng.uniform(0.5, 2.0), 2)))
                else:
                    second = pool[rng.integers(len(pool))]
                    if second == first and op == "sub":  # x - x is just 0
                        second = ("const", 0.5)
                swap = op != "div" and rng.random() < 0.5
                refs = (second, first) if swap else (first, second)
            else:
                op = str(rng.choice(unary))
                refs = (unused.pop(0) if unused else pool[rng.integers(len(pool))],)
            program.steps.append((op, refs))
            node = ("node", len(program.steps) - 1)
            pool.append(node)
            unused.append(node)
        while len(unused) > 1:  # fold every unused result into the output
            pair = (unused.pop(0), unused.pop(0))
            program.steps.append(("add" if rng.random() < 0.5 else "mul", pair))
            unused.append(("node", len(program.steps) - 1))
        program.point = rng.uniform(-1.5, 1.5, n_inputs)
        with np.errstate(all="ignore"):
            values = program.values(*program.point)
        if np.all(np.isfinite(values)) and np.all(np.abs(values) < 50):
            return program
    raise RuntimeError(f"random_program: no well-behaved expression for seed {seed}")


# ----------------------------------------------------------------------------- calling


def _run(fn: Callable[..., Any], args: Sequence[Any], what: str, graph: str,
         on_arrays: bool = False) -> Any:
    """Call your code quietly; explain an error, with a special word for recursion."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    except (NotImplementedError, CheckFailure):
        raise
    except RecursionError:
        raise CheckFailure(
            f"{what} hit Python's recursion limit on {graph}: Python allows about 1,000 nested "
            "calls, and a graph can be deeper than that. Walk the graph with an explicit stack "
            "(a list you append to and pop from) instead of a recursive function."
        ) from None
    except Exception as error:
        hint = ""
        if isinstance(error, AttributeError) and "float" in str(error):
            hint = (
                " A parent can be a plain number (a constant): check "
                "`isinstance(parent, AutogradValue)` before using its `.grad` or `.parents`."
            )
        elif on_arrays:
            hint = (
                " The values here are numpy arrays (every op works elementwise): keep grads as "
                "they come, without float(...) or the math module."
            )
        raise CheckFailure(
            f"{what} raised {type(error).__name__}: {error} — on {graph}.{hint}"
        ) from error


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


def check_backward_pass(backward_pass: Callable[[Any], Any], base: type, seed: int = 4) -> None:
    """Check ``backward_pass(node)`` on single nodes of the kit's ops made from ``base``.

    Each parent starts with a nonzero ``grad`` (so overwriting instead of adding shows) and
    ``node.grad`` is random (so a missing chain factor shows); ``seed`` draws the numbers.
    """
    ops = kit_ops(base)
    rng = np.random.default_rng(seed)

    def case(make, description, values_like=float):
        leaves = [base(values_like(v)) for v in rng.uniform(0.6, 2.2, 2) * np.array([1, -1])]
        node = make(*leaves)
        node.label = description
        before = {id(leaf): values_like(g) for leaf, g in zip(leaves, rng.uniform(-1, 1, 2))}
        for leaf in leaves:  # a copy: an in-place `parent.grad += ...` must not alter `before`
            leaf.grad = copy.copy(before[id(leaf)])
        upstream = values_like(rng.uniform(0.3, 1.7))
        node.grad = upstream
        where = (
            f"node {description} with " + ", ".join(
                f"{n}={_short(leaf.value)} (grad {_short(leaf.grad)} before)"
                for n, leaf in zip("xy", leaves)
            ) + f" and node.grad={_short(upstream)}"
        )
        _run(backward_pass, [node], "backward_pass(node)", where, values_like is not float)
        got_upstream = as_float_array(node.grad, "node.grad after backward_pass", where)
        if not np.all(close(got_upstream, np.asarray(upstream, dtype=np.float64))):
            raise CheckFailure(
                f"backward_pass changed node.grad itself (from {_short(upstream)} to "
                f"{_short(node.grad)}) at {where}; it should only add into the parents' grads."
            )
        expected = {id(leaf): np.asarray(before[id(leaf)], dtype=np.float64) for leaf in leaves}
        local = node.grads(*node.parent_values)
        partial_of = {}
        for parent, partial in zip(node.parents, local):
            if isinstance(parent, base):
                expected[id(parent)] = expected[id(parent)] + upstream * partial
                partial_of.setdefault(id(parent), []).append(partial)
        for n, leaf in zip("xy", leaves):
            got = as_float_array(leaf.grad, f"{n}.grad after backward_pass", where)
            exp = expected[id(leaf)]
            if got.shape != exp.shape and got.size != 1:
                raise CheckFailure(
                    f"after backward_pass, {n}.grad has shape {got.shape} at {where}; "
                    f"expected shape {exp.shape} (like {n}.value)."
                )
            got = np.broadcast_to(got, exp.shape)
            if np.all(close(got, exp, RTOL, ATOL)):
                continue
            partials = partial_of.get(id(leaf), [0.0])
            local_sum = sum(partials)
            others = [p for i, p in partial_of.items() if i != id(leaf)]
            hint = _push_hint(got, before[id(leaf)], upstream, local_sum,
                              others[0][0] if others else None)
            if len(partials) > 1:
                hint = (
                    f"{n} is both inputs of this node, so it gets both contributions "
                    "(one per input, added together)"
                )
            raise CheckFailure(
                f"after backward_pass(node), {n}.grad is wrong at {where}: expected "
                f"{_short(exp)}, got {_short(got)} — {hint}."
            )

    case(lambda x, y: ops.mul(x, y), "x * y")
    case(lambda x, y: ops.div(x, y), "x / y")
    case(lambda x, y: ops.sub(x, y), "x - y")
    case(lambda x, y: ops.add(x, y), "x + y")
    case(lambda x, y: ops.sin(x), "sin(x)")
    case(lambda x, y: ops.mul(x, 2.5), "x * 2.5 (a constant)")
    case(lambda x, y: ops.div(3.0, y), "3.0 / y (a constant)")
    case(lambda x, y: ops.mul(x, x), "x * x (the same parent twice)")
    case(lambda x, y: ops.mul(x, y), "x * y on numpy arrays",
         values_like=lambda v: np.array([v, 0.5 * v, -v]))
    # a variable (a leaf) has a constant as its only parent: nothing happens, nothing fails
    leaf = base(1.5)
    leaf.grad = 0.75
    _run(backward_pass, [leaf], "backward_pass(x)", "a variable x = AutogradValue(1.5)")
    if not np.all(close(as_float_array(leaf.grad, "x.grad", "a variable"), 0.75)):
        raise CheckFailure(
            "backward_pass(x) on a variable x = AutogradValue(1.5) changed x.grad; a variable's "
            "only parent is the plain number it was made from, which must be skipped."
        )


def _short(x: Any) -> str:
    array = np.asarray(x, dtype=np.float64)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    return np.array2string(array, precision=4, suppress_small=True)


# ----------------------------------------------------------------------------- backward


def _graph_nodes(output: Any, base: type) -> list[Any]:
    """Every AutogradValue the output depends on (itself included), in no particular order."""
    seen: dict[int, Any] = {}
    stack = [output]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(p for p in node.parents if isinstance(p, base))
    return list(seen.values())


def _is_leaf(node: Any, base: type) -> bool:
    return not any(isinstance(p, base) for p in node.parents)


def check_visit_order(order: Sequence[Any], output: Any, base: type, graph: str) -> None:
    """``order`` (the nodes in the order their backward_pass ran) must be a reverse topological
    order of the graph of ``output``: each node once, after every node that uses it.

    Variables (nodes with no AutogradValue parent) may be left out; their backward_pass does
    nothing.
    """
    nodes = _graph_nodes(output, base)
    position: dict[int, int] = {}
    for index, node in enumerate(order):
        if id(node) in position:
            count = sum(1 for n in order if n is node)
            raise CheckFailure(
                f"backward processed node {_label(node)} {count} times on {graph}; call "
                "backward_pass exactly once per node (a node used by several others must wait "
                "until all of them have been processed, then go once)."
            )
        position[id(node)] = index
    if not order:
        raise CheckFailure(
            f"backward never called node.backward_pass() on {graph}; call "
            "`node.backward_pass()` for each node of the graph (the tests watch those calls)."
        )
    if order[0] is not output:
        raise CheckFailure(
            f"backward processed {_label(order[0])} first on {graph}; the output "
            f"{_label(output)} must be processed first (its gradient is the seed)."
        )
    for node in nodes:
        if id(node) not in position and not _is_leaf(node, base):
            raise CheckFailure(
                f"backward never processed node {_label(node)} on {graph}; every node the output "
                "depends on must get its backward_pass call."
            )
    for node in nodes:
        for parent in node.parents:
            if (
                isinstance(parent, base)
                and id(parent) in position
                and position[id(parent)] < position[id(node)]
            ):
                raise CheckFailure(
                    f"node {_label(parent)} was processed before its child {_label(node)} on "
                    f"{graph}: backward must visit nodes in reverse topological order (a node "
                    "only after every node that uses it), or its gradient is still incomplete "
                    "when it is passed on."
                )


def _check_gradients(variables, program: Program, point, graph: str, call: str) -> None:
    inputs = [np.asarray(v, dtype=np.float64) for v in point]
    for i, variable in enumerate(variables):
        expected = finite_difference_partial(program.evaluate, inputs, i, None)
        got = as_float_array(variable.grad, f"x{i}.grad", graph)
        if got.shape != expected.shape or not np.all(close(got, expected)):
            raise CheckFailure(
                f"{call}: x{i}.grad is {_short(got)}, but finite differences give "
                f"{_short(expected)} on {graph}. Each node's gradient must be the sum over "
                "every node that uses it, complete before it is passed on."
            )


def _diamond_program() -> Program:
    """x0, x1; n0 = x0 * x1 is used three times, one input also comes in as a constant."""
    program = Program(2)
    program.steps = [
        ("mul", (("input", 0), ("input", 1))),   # n0 = x0 * x1
        ("sin", (("node", 0),)),                  # n1 = sin(n0)
        ("mul", (("node", 0), ("const", 2.0))),   # n2 = n0 * 2
        ("add", (("node", 1), ("node", 2))),      # n3 = n1 + n2
        ("mul", (("node", 3), ("node", 0))),      # n4 = n3 * n0
    ]
    program.point = np.array([0.7, -1.3])
    return program


def check_backward_on(backward: Callable[[Any], Any], base: type, program: Program,
                      name: str | None = None) -> None:
    """Run ``backward`` on the graph of ``program``; check the visit order and the gradients."""
    order: list[Any] = []
    ops = kit_ops(base, order)
    point = program.point
    variables = [ops.var(float(v)) for v in point]
    for i, variable in enumerate(variables):
        variable.label = f"x{i}"
    nodes = program.build(ops, variables)
    output = nodes[-1]
    graph = name or (
        f"the graph {program.text()} at "
        + ", ".join(f"x{i}={v:.4g}" for i, v in enumerate(point))
    )
    _run(backward, [output], "backward(output)", graph)
    check_visit_order(order, output, base, graph)
    if not np.all(close(as_float_array(output.grad, "output.grad", graph), 1.0)):
        raise CheckFailure(
            f"after backward(output), output.grad is {_short(output.grad)} on {graph}; the seed "
            "d output / d output is 1.0 (set it after resetting the grads, before the first "
            "backward_pass)."
        )
    _check_gradients(variables, program, point, graph, "backward(output)")


def check_backward_shapes(backward: Callable[[Any], Any], base: type) -> None:
    """Visit order and gradients on a small graph with a node used three times and a constant."""
    check_backward_on(backward, base, _diamond_program())


def check_backward_random(backward: Callable[[Any], Any], base: type,
                          seeds: Sequence[int] = (0, 1, 2)) -> None:
    """Order and gradients (vs finite differences) on seeded random graphs with reuse."""
    for seed in seeds:
        program = random_program(seed)
        check_backward_on(backward, base, program,
                          f"a random graph (seed {seed}) {program.text()}")


def check_long_chain(backward: Callable[[Any], Any], base: type,
                     length: int = CHAIN_LENGTH) -> None:
    """A chain of ``length`` multiplications: no recursion limit, and the right product."""
    ops = kit_ops(base)
    rng = np.random.default_rng(10)
    factors = rng.uniform(0.999, 1.001, length)
    x = base(0.8)
    node = x
    for c in factors:
        node = ops.mul(node, float(c))
    graph = f"a chain of {length:,} multiplications y = x * c1 * c2 * ... (x = 0.8)"
    _run(backward, [node], "backward(y)", graph)
    expected = float(np.prod(factors))
    got = as_float_array(x.grad, "x.grad", graph)
    if not np.all(close(got, expected)):
        raise CheckFailure(
            f"backward(y) on {graph} gives x.grad = {_short(got)}; expected the product of "
            f"the factors, {expected:.6g}."
        )


def check_second_call(backward: Callable[[Any], Any], base: type) -> None:
    """A second backward() on the same output gives the same gradients (the grads are reset),
    also when the graph's nodes start with stale gradients from earlier work."""
    program = _diamond_program()
    ops = kit_ops(base)
    variables = [base(float(v)) for v in program.point]
    nodes = program.build(ops, variables)
    graph = f"the graph {program.text()}"
    _run(backward, [nodes[-1]], "backward(output)", graph)
    first = [np.asarray(v.grad, dtype=np.float64).copy() for v in variables]
    _run(backward, [nodes[-1]], "a second backward(output)", graph)
    for i, (variable, before) in enumerate(zip(variables, first)):
        got = as_float_array(variable.grad, f"x{i}.grad", graph)
        if not np.all(close(got, before)):
            raise CheckFailure(
                f"a second backward(output) changed x{i}.grad from {_short(before)} to "
                f"{_short(got)} on {graph}: the gradients left by the first call were not reset. "
                "backward must first set the grad of every node in the graph to 0, so that "
                "calling it again gives the same gradients."
            )
    for node in [*variables, *nodes]:
        node.grad = 123.0
    _run(backward, [nodes[-1]], "backward(output)", graph + " whose nodes start with grad 123")
    _check_gradients(variables, program, program.point,
                     graph + " whose nodes start with grad = 123 (left from earlier work)",
                     "backward(output)")


def check_backward(backward: Callable[[Any], Any], base: type) -> None:
    """Every backward check: visit order, random graphs, a long chain and a second call."""
    check_backward_shapes(backward, base)
    check_backward_random(backward, base)
    check_long_chain(backward, base)
    check_second_call(backward, base)
