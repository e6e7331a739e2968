"""Checks for the forward-mode notebook (03): tangents carried through whole expressions.

:func:`coursekit.checks.check_op` checks one op's ``func`` and ``grads`` on their own. The
checks here run your ``ForwardValue`` machinery end to end: variables are made from numbers,
an expression is built with your operators, and the ``value`` and ``forward_grads`` of the
result are compared with numpy and with central differences of the same expression written
in numpy. Expected values never come from your code.

The expressions use two extra ops that are not exercises, made by :func:`helper_ops` on top of
your ``ForwardValue``: ``atan(a)`` (arctangent) and ``hypot(a, b)`` (sqrt(a² + b²)). They let
the propagation step be checked before any of your own ops exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .checks import (
    CheckFailure,
    array_hint,
    as_float_array,
    check_close,
    close,
    finite_difference_partial,
    hint_for,
    sample_points,
)
from .core import (
    Probe,
    derivative_helper,
    describe,
    fmt,
    is_float_array,
    is_int,
    is_str,
    items,
    judgement,
    list_of,
    observe,
    one_of,
    probe,
)
from .expressions import Symbol, evaluate, helper, trace


def helper_ops(forward_value: type) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Two ops built on your ``ForwardValue``: ``atan(a)`` and ``hypot(a, b)``.

    They are used only by the checks, so that an expression can be checked whatever ops
    you have written so far. Inside a check's expression (``lambda x: atan(x) + ...``) they
    record the expression (:mod:`coursekit.expressions`), which is then built on your class;
    on your values they make the op's node directly.
    """
    classes = _helper_classes(forward_value) if isinstance(forward_value, type) else None

    def make(name: str, index: int) -> Callable[..., Any]:
        traced = helper(name)

        def op(*args: Any) -> Any:
            if classes is None or any(isinstance(a, Symbol) for a in args):
                return traced(*args)
            return classes[index](*args)

        op.__name__ = name
        return op

    return make("atan", 0), make("hypot", 1)


def _helper_classes(forward_value: type) -> tuple[type, type]:
    """The classes of :func:`helper_ops` on ``forward_value``."""

    class atan(forward_value):  # noqa: N801  (named like a function, used like one)
        def func(self, a):
            return np.arctan(a)

        def grads(self, a):
            return (1.0 / (1.0 + a * a),)

    class hypot(forward_value):  # noqa: N801
        def func(self, a, b):
            return np.hypot(a, b)

        def grads(self, a, b):
            h = np.hypot(a, b)
            return a / h, b / h

    return atan, hypot


def _variable(forward_value: type, x: Any, where: str) -> Any:
    variable = forward_value(x)
    grads = getattr(variable, "forward_grads", None)
    if not isinstance(grads, dict) or len(grads) != 1 or next(iter(grads)) is not variable:
        raise CheckFailure(
            f"a new variable `ForwardValue(x)` at {where} has forward_grads {describe(grads)}; "
            "it must be {x: 1} (the variable with respect to itself). Your forward_pass must "
            "leave `self.forward_grads` empty when no parent is a ForwardValue."
        )
    return variable


#: What a key of ``forward_grads`` is, in a probe's data: an input's index, or one of these.
_THE_RESULT, _A_STRANGER = -2, -1


#: [value, None, a description] when forward_grads is no dict, else [value, keys, tangents].
_EXPRESSION_DATA = one_of(
    items(is_float_array, lambda v: v is None, is_str),
    items(is_float_array, list_of(is_int), list_of(one_of(is_float_array, is_str))))


@probe(returns=_EXPRESSION_DATA)
def expression_at(forward_value: type, tree: list, args: Sequence[Any], what: str,
                  where: str) -> list[Any]:
    """[value, keys, tangents] of the expression ``tree`` (:mod:`coursekit.expressions`) on
    fresh variables: keys as input indices (or the codes above), tangents as arrays (a
    description for keys that are not inputs); keys None when forward_grads is not a dict."""
    variables = [_variable(forward_value, x, where) for x in args]
    atan, hypot = _helper_classes(forward_value)
    out = evaluate(tree, variables, {"atan": atan, "hypot": hypot})
    if not isinstance(out, forward_value):
        raise CheckFailure(
            f"{what} gave {describe(out)} at {where}, not a ForwardValue: an op on "
            "ForwardValues must return a ForwardValue (the class, via its operators)."
        )
    value = as_float_array(out.value, f"the value of {what}", where)
    grads = getattr(out, "forward_grads", None)
    if not isinstance(grads, dict):
        return [value, None, describe(grads)]
    keys, tangents = [], []
    for key, tangent in grads.items():
        index = next((i for i, v in enumerate(variables) if key is v), None)
        if index is None:
            keys.append(_THE_RESULT if key is out else _A_STRANGER)
            tangents.append(describe(key))
        else:
            keys.append(index)
            tangents.append(as_float_array(tangent, f"d({what})/d{index} from forward_grads",
                                           where))
    return [value, keys, tangents]


@judgement
def check_expression(
    forward_value: type,
    build: Callable[..., Any],
    reference: Callable[..., Any],
    domains: Sequence[str],
    *,
    text: str,
    names: Sequence[str] | None = None,
    seeds: Sequence[int] = (0,),
    shapes: Sequence[tuple[int, ...]] = ((),),
    only_if_propagation_ok: bool = False,
) -> None:
    """Check ``value`` and ``forward_grads`` of ``build(*variables)`` for fresh variables.

    ``build`` writes the expression with your ForwardValues (operators, methods, ops);
    ``reference`` writes the same expression with numpy, elementwise. ``text`` is the
    expression as a student would read it, for messages. For every seed and shape, variables
    are drawn from ``domains`` (one per argument); the result must be a ForwardValue whose
    value matches numpy, whose ``forward_grads`` has exactly the variables as keys, and whose
    derivative with respect to each variable matches central differences.

    With ``only_if_propagation_ok``, nothing is judged unless :func:`propagation_ok` holds:
    an op's exercise then checks the op inside expressions without charging a wrong
    ``forward_pass`` a second time.
    """
    if only_if_propagation_ok and not propagation_ok(forward_value):
        return
    names = list(names or ("x", "y", "z")[: len(domains)])
    what = f"`{text}`"
    tree = trace(build, len(domains))
    for inputs, args, where in sample_points(domains, names, seeds, shapes):
        data = observe(f"expression {text} at {where}",
                       Probe(expression_at, forward_value=forward_value, tree=tree, args=args,
                             what=what, where=where),
                       what, where, array_hint(bool(inputs[0].shape)))
        _judge_expression(data, reference, inputs, names, text, where)


@judgement
def _judge_expression(data: list[Any], reference: Callable[..., Any],
                      inputs: Sequence[np.ndarray], names: Sequence[str], text: str,
                      where: str) -> None:
    what = f"`{text}`"
    value, keys, tangents = data
    check_close(
        value, reference(*inputs), f"the value of {what}", where,
        "the values are computed by your ops' func",
    )
    if keys is None:
        raise CheckFailure(
            f"`forward_grads` of {what} is {tangents} at {where}; it must be a "
            "dict mapping each input variable to the derivative with respect to it."
        )
    if _THE_RESULT in keys:
        raise CheckFailure(
            f"`forward_grads` of {what} at {where} maps the result to itself, as if it "
            "were a new variable: your forward_pass left forward_grads empty, so no "
            "parent was recognised as a ForwardValue. Loop over `args` (the inputs "
            "themselves), not `self.parent_values` (their raw numbers)."
        )
    strangers = [t for k, t in zip(keys, tangents) if k == _A_STRANGER]
    if strangers:
        raise CheckFailure(
            f"`forward_grads` of {what} at {where} has {len(strangers)} key(s) that are "
            f"not input variables (e.g. {strangers[0]}). The keys must be "
            "the variables the expression was built from (ForwardValues made from "
            "numbers), not intermediate results: take them from the parents' "
            "forward_grads."
        )
    expected = [
        finite_difference_partial(reference, inputs, i, None) for i in range(len(inputs))
    ]
    for i, exp in enumerate(expected):
        found = [t for k, t in zip(keys, tangents) if k == i]
        if not found:
            raise CheckFailure(
                f"`forward_grads` of {what} at {where} has no entry for the input "
                f"{names[i]}, which the result depends on: sum the contributions of "
                "every parent that is a ForwardValue."
            )
        label = f"d({text})/d{names[i]} from forward_grads"
        got = np.asarray(found[0], dtype=np.float64)
        if got.shape not in ((), exp.shape):
            raise CheckFailure(
                f"{label} has shape {got.shape} at {where}; expected a number or "
                f"shape {exp.shape}, like the input."
            )
        got = np.broadcast_to(got, exp.shape)
        if not np.all(close(got, exp)):
            others = [e for j, e in enumerate(expected) if j != i]
            check_close(got, exp, label, where, _chain_hint(got, exp, others))


def _chain_hint(got: np.ndarray, exp: np.ndarray, others: Sequence[np.ndarray]) -> str:
    hint = hint_for(got, exp, others)
    if hint.startswith("work the derivative"):
        return (
            "each parent contributes local_grad * parent_tangent, and the contributions of all "
            "parents (and of a variable used twice) add up"
        )
    return hint


def propagation_ok(forward_value: type) -> bool:
    """True when ``forward_pass`` gets a simple case right: d(atan(x + x) + (-y))/dx, /dy.

    The op exercises check their ops inside expressions only when this holds, so that a
    wrong ``forward_pass`` loses points in its own exercise and not again in every op.
    """
    try:
        data = observe("propagation check d(atan(x + x) + (-y))",
                       Probe(propagation_at, forward_value=forward_value), "", "")
        count, dx, dy = data
        return (count == 2 and len(dx) == 1 and len(dy) == 1
                and bool(np.all(close(dx[0], 2 / (1 + 0.36))))
                and bool(np.all(close(dy[0], -1.0))))
    except (CheckFailure, NotImplementedError, TypeError, ValueError):
        return False


@probe(returns=items(is_int, list_of(is_float_array), list_of(is_float_array)))
def propagation_at(forward_value: type) -> list[Any]:
    """[number of keys, tangents for x, tangents for y] of atan(x + x) + (-y) at (0.3, -1.1)."""
    atan, _ = _helper_classes(forward_value)
    x, y = forward_value(0.3), forward_value(-1.1)
    grads = (atan(x + x) + (-y)).forward_grads
    found: dict[int, list] = {0: [], 1: []}
    for key, tangent in grads.items():
        for index, variable in enumerate((x, y)):
            if key is variable:
                found[index].append(as_float_array(tangent, "", ""))
    return [len(grads), found[0], found[1]]


def _one_output_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def random_plans(rng: np.random.Generator, n: int, m: int) -> list[list[Any]]:
    """The plan of a random function R^n -> R^m (see :func:`plan_function`), as data."""
    plans = []
    for i in range(m):
        p, q, r = (int(k) for k in rng.integers(0, n, 3))
        c1, c2 = (float(c) for c in rng.choice([-1.0, 1.0], 2) * rng.uniform(0.5, 1.5, 2))
        plans.append([i % 3, p, q, r, c1, c2])
    return plans


def plan_function(plans: Sequence[Sequence[Any]],
                  forward_value: type | None = None) -> Callable[..., list[Any]]:
    """The function R^n -> R^m of ``plans``, made of +, unary -, atan and hypot, with constants.

    It works on floats (numpy does the maths) and, given your ``forward_value``, on
    ForwardValues (your operators and the kit's helper ops). Some outputs ignore some inputs,
    so in the pass for such an input the output is a plain number.
    """
    classes = _helper_classes(forward_value) if isinstance(forward_value, type) else None

    def is_value(a):
        return classes is not None and isinstance(a, forward_value)

    def atan(a):
        return classes[0](a) if is_value(a) else np.arctan(a)

    def hypot(a, b):
        if is_value(a) or is_value(b):
            return classes[1](a, b)
        return np.hypot(a, b)

    # Only +, unary - and the two test ops: the check does not depend on your other ops.
    def f(*xs):
        outs = []
        for kind, p, q, r, c1, c2 in plans:
            if kind == 0:
                outs.append(atan(xs[p] + c1) + (-xs[q]))
            elif kind == 1:
                outs.append(hypot(xs[p] + c1, c2) + atan(xs[q] + (-xs[r])))
            else:
                outs.append(c2 + (-atan(hypot(xs[p], c1) + (-xs[p]))))
        return outs

    return f


@probe(returns=is_float_array)
def jacobian_at(jacobian: Callable[..., Any], forward_value: type, plans: list, xs: list,
                where: str) -> np.ndarray:
    """``jacobian(f, *xs)`` for the random function of ``plans`` on your ForwardValue."""
    return as_float_array(jacobian(plan_function(plans, forward_value), *xs), "`jacobian`",
                          where)


@derivative_helper("the kit's finite differences")
def numerical_jacobian(f: Callable[..., list[Any]], xs: Sequence[float]) -> np.ndarray:
    """The (m, n) Jacobian of f at xs by central differences, one column per input."""
    xs = np.asarray(xs, dtype=np.float64)
    columns = []
    for j in range(len(xs)):

        def along(t, j=j):
            moved = [float(t) if k == j else float(x) for k, x in enumerate(xs)]
            return np.array(_one_output_list(f(*moved)), dtype=np.float64)

        columns.append(finite_difference_partial(along, [xs[j]], 0, None))
    return np.stack(columns, axis=1)


@judgement
def check_jacobian(
    jacobian: Callable[..., Any],
    forward_value: type,
    *,
    sizes: Sequence[tuple[int, int]] = ((3, 2),),
    seeds: Sequence[int] = (0,),
) -> None:
    """Check ``jacobian(f, *xs)`` on random functions R^n -> R^m at random points.

    The result must be an array of shape (m, n) whose column j holds the derivatives of the
    m outputs with respect to x_j, matching central differences of the same function.
    """
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for n, m in sizes:
            plans = random_plans(rng, n, m)
            xs = [float(x) for x in rng.uniform(-2.0, 2.0, n)]
            where = f"a random function R^{n} -> R^{m} at x={fmt(np.array(xs))} (seed {seed})"
            got = observe(f"jacobian of {where}",
                          Probe(jacobian_at, jacobian=jacobian, forward_value=forward_value,
                                plans=plans, xs=xs, where=where),
                          "`jacobian`", where)
            if got.shape != (m, n):
                raise CheckFailure(
                    f"`jacobian` returned shape {got.shape} for {where}; expected ({m}, {n}): "
                    "one row per output, one column per input."
                )
            expected = numerical_jacobian(plan_function(plans), xs)
            ok = close(got, expected)
            if not np.all(ok):
                row, col = (int(k) for k in np.argwhere(~ok)[0])
                if m == n and np.all(close(got.T, expected)):
                    hint = "it is transposed — row i is output i, column j is input j"
                else:
                    hint = _column_hint(got, expected)
                raise CheckFailure(
                    f"`jacobian` is wrong for {where}: entry ({row}, {col}) = d(output {row})/"
                    f"d(x_{col}) should be {fmt(expected[row, col])}, got "
                    f"{fmt(got[row, col])} — {hint}"
                )


def _column_hint(got: np.ndarray, expected: np.ndarray) -> str:
    n = expected.shape[1]
    for j in range(n):
        if not np.all(close(got[:, j], expected[:, j])):
            for k in range(n):
                if k != j and np.all(close(got[:, j], expected[:, k])):
                    return (
                        f"column {j} holds the derivatives for x_{k}; make input j the only "
                        "variable in pass j and read its derivative"
                    )
    return (
        "in pass j only x_j is a ForwardValue; an output's entry is its forward_grads for "
        "that variable, or 0 when the output is a plain number or lacks the key"
    )
