"""Hypothesis strategies and tolerances for the autodiff tests, in one place.

Every op gets inputs from its safe domain: log on |x| + 0.5, denominators at least 0.5 away from
0, pow on a positive base, relu at least 1e-2 (far more than 10 finite-difference steps) away from
its kink. Inputs are float64 and drawn so that arguments are (almost surely) distinct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from autodiff.numerical import ATOL, RTOL
from hypothesis import settings
from hypothesis import strategies as st

# Derivatives checked against finite differences: |a - n| <= FD_ATOL + FD_RTOL * max(|a|, |n|).
FD_ATOL, FD_RTOL = ATOL, RTOL
# Two analytic derivatives (ours against HIPS autograd, forward against reverse) agree to
# round-off: a few ulps times the number of ops, far below this.
EXACT_ATOL, EXACT_RTOL = 1e-10, 1e-9

settings.register_profile("autodiff", max_examples=25, deadline=None, derandomize=True,
                          print_blob=True)
settings.load_profile("autodiff")


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


anywhere = _floats(-3.0, 3.0)
exponent_input = _floats(-5.0, 5.0)
positive = _floats(-5.0, 5.0).map(lambda v: abs(v) + 0.5)  # |x| + 0.5
away_from_zero = st.tuples(st.sampled_from([-1.0, 1.0]), _floats(0.5, 3.0)).map(
    lambda t: t[0] * t[1]
)
away_from_kink = st.tuples(st.sampled_from([-1.0, 1.0]), _floats(1e-2, 3.0)).map(
    lambda t: t[0] * t[1]
)


def _sigmoid(a: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-a))


@dataclass(frozen=True)
class OpSpec:
    """An op: its class name in every engine, the numpy reference, each argument's domain."""

    name: str
    reference: Any
    domains: tuple[st.SearchStrategy[float], ...]

    @property
    def arity(self) -> int:
        return len(self.domains)


OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in [
        OpSpec("_add", np.add, (anywhere, anywhere)),
        OpSpec("_neg", np.negative, (anywhere,)),
        OpSpec("_sub", np.subtract, (anywhere, anywhere)),
        OpSpec("_mul", np.multiply, (anywhere, anywhere)),
        OpSpec("_div", np.divide, (anywhere, away_from_zero)),
        OpSpec("_pow", np.power, (positive, anywhere)),
        OpSpec("_exp", np.exp, (exponent_input,)),
        OpSpec("_log", np.log, (positive,)),
        OpSpec("_sin", np.sin, (anywhere,)),
        OpSpec("_cos", np.cos, (anywhere,)),
        OpSpec("_tanh", np.tanh, (exponent_input,)),
        OpSpec("_sigmoid", _sigmoid, (exponent_input,)),
        OpSpec("_relu", lambda a: np.maximum(a, 0.0), (away_from_kink,)),
    ]
}


def op_inputs(spec: OpSpec) -> st.SearchStrategy[tuple[float, ...]]:
    """One float per argument from the op's domain, all distinct (so swapped arguments show)."""
    return st.tuples(*spec.domains).filter(lambda xs: len(set(xs)) == len(xs))


def op_array_inputs(spec: OpSpec, size: int = 4) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """Float64 arrays of shape (size,) per argument, elementwise from the op's domain."""
    return st.tuples(*(st.lists(d, min_size=size, max_size=size).map(np.array)
                       for d in spec.domains))


# Random compositions: a program is a list of steps (op, index of first operand, index of
# second); each step appends its result to a stack that starts with the inputs. The wrappers keep
# every op in its safe domain whatever the operands are.
UNARY = ("neg", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu")
BINARY = ("add", "sub", "mul", "div", "pow")


@st.composite
def programs(draw: st.DrawFn, n_inputs: int, min_steps: int = 2,
             max_steps: int = 8) -> list[tuple[str, int, int]]:
    steps = []
    for k in range(draw(st.integers(min_steps, max_steps))):
        available = n_inputs + k
        op = draw(st.sampled_from(UNARY + BINARY))
        steps.append((op, draw(st.integers(0, available - 1)),
                      draw(st.integers(0, available - 1))))
    return steps


def run_program(program: list[tuple[str, int, int]], inputs: list[Any],
                unary: dict[str, Any]) -> list[Any]:
    """Evaluate a program on any number type; `unary` maps exp/log/... to that type's function."""
    stack = list(inputs)
    for op, i, j in program:
        a, b = stack[i], stack[j]
        if op == "neg":
            out = -a
        elif op == "exp":
            out = unary["exp"](unary["tanh"](a))
        elif op == "log":
            out = unary["log"](a * a + 0.5)
        elif op in ("sin", "cos", "tanh", "sigmoid"):
            out = unary[op](a)
        elif op == "relu":
            out = unary["relu"](a) + 0.1 * a
        elif op == "add":
            out = a + b
        elif op == "sub":
            out = a - b
        elif op == "mul":
            out = unary["tanh"](a) * b
        elif op == "div":
            out = a / (b * b + 0.5)
        else:  # pow: positive base, bounded exponent
            out = (a * a + 0.5) ** unary["tanh"](b)
        stack.append(out)
    return stack


def method_table() -> dict[str, Any]:
    """exp/log/... as methods, for ForwardValue, AutogradValue and Tensor."""
    return {name: (lambda v, name=name: getattr(v, name)())
            for name in ("exp", "log", "sin", "cos", "tanh", "sigmoid", "relu")}


def autograd_table() -> dict[str, Any]:
    """The same functions for HIPS autograd's traced numpy."""
    import autograd.numpy as anp

    return {"exp": anp.exp, "log": anp.log, "sin": anp.sin, "cos": anp.cos, "tanh": anp.tanh,
            "sigmoid": lambda v: 0.5 * (1.0 + anp.tanh(0.5 * v)),
            "relu": lambda v: anp.where(v > 0.0, v, 0.0)}  # slope 0 at 0, as ours


def numpy_table() -> dict[str, Any]:
    return {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
            "sigmoid": _sigmoid, "relu": lambda v: np.maximum(v, 0.0)}


def assert_close(analytic: Any, expected: Any, atol: float, rtol: float, what: str) -> None:
    """Shapes first, then |a - e| <= atol + rtol * max(|a|, |e|), with both values shown."""
    a, e = np.asarray(analytic, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, expected {e.shape}"
    bound = atol + rtol * np.maximum(np.abs(a), np.abs(e))
    assert np.all(np.abs(a - e) <= bound), (
        f"{what}: got {a}, expected {e} (max error {np.max(np.abs(a - e)):.3g})"
    )
