"""Every elementwise op of the forward and reverse engines: values against numpy, derivatives
against central differences of numpy's function, compositions against HIPS autograd."""

from __future__ import annotations

import autograd
import numpy as np
import pytest
from autodiff import forward, reverse
from autodiff.numerical import central_difference
from hypothesis import given
from hypothesis import strategies as st

from tests.autodiff.autodiff_strategies import (
    EXACT_ATOL,
    EXACT_RTOL,
    FD_ATOL,
    FD_RTOL,
    OPS,
    assert_close,
    autograd_table,
    method_table,
    op_array_inputs,
    op_inputs,
    programs,
    run_program,
)

ENGINES = {"forward": forward, "reverse": reverse}


def derivatives(engine_name: str, op_name: str, xs: tuple) -> list:
    """d op / d x_i for each input, computed by the engine under test."""
    engine = ENGINES[engine_name]
    if engine_name == "forward":
        variables = [engine.ForwardValue(x) for x in xs]
        out = getattr(engine, op_name)(*variables)
        return out.value, [out.forward_grads[v] for v in variables]
    variables = [engine.AutogradValue(x) for x in xs]
    out = getattr(engine, op_name)(*variables)
    out.backward()
    return out.value, [v.grad for v in variables]


def partial_by_central_difference(reference, xs: tuple, i: int):
    def along_i(t):
        args = list(xs)
        args[i] = t
        return reference(*args)

    return central_difference(along_i, xs[i])


def assert_value_and_derivatives(engine_name, op_name, xs, where):
    """The engine's value matches numpy and each partial matches central differences."""
    reference = OPS[op_name].reference
    value, grads = derivatives(engine_name, op_name, xs)
    assert_close(value, reference(*xs), 0.0, 1e-12, f"{engine_name}.{op_name} value")
    for i, g in enumerate(grads):
        expected = partial_by_central_difference(reference, xs, i)
        assert_close(g, expected, FD_ATOL, FD_RTOL,
                     f"{engine_name}.{op_name} d/d(input {i}) {where}")


@pytest.mark.parametrize("engine_name", sorted(ENGINES))
@pytest.mark.parametrize("op_name", sorted(OPS))
def test_op_value_and_derivatives_on_floats(engine_name, op_name):
    spec = OPS[op_name]

    @given(op_inputs(spec))
    def check(xs):
        assert_value_and_derivatives(engine_name, op_name, xs, f"at {xs}")

    check()


@pytest.mark.parametrize("engine_name", sorted(ENGINES))
@pytest.mark.parametrize("op_name", sorted(OPS))
def test_op_is_elementwise_on_arrays(engine_name, op_name):
    spec = OPS[op_name]

    @given(op_array_inputs(spec))
    def check(xs):
        assert_value_and_derivatives(engine_name, op_name, xs, "on arrays")

    check()


@pytest.mark.parametrize("engine_name", sorted(ENGINES))
def test_operators_build_the_op_classes(engine_name):
    engine = ENGINES[engine_name]
    node = engine.ForwardValue if engine_name == "forward" else engine.AutogradValue
    x, y = node(1.5), node(-0.5)
    built = {
        "_add": x + y, "_sub": x - y, "_mul": x * y, "_div": x / y, "_pow": x ** y, "_neg": -x,
        "_exp": x.exp(), "_log": x.log(), "_sin": x.sin(), "_cos": x.cos(), "_tanh": x.tanh(),
        "_sigmoid": x.sigmoid(), "_relu": x.relu(),
    }
    for name, result in built.items():
        assert type(result) is getattr(engine, name), name
    for result, expected in [(3 - x, 1.5), (2 / x, 2 / 1.5), (x ** 3, 1.5 ** 3),
                             (2.0 ** x, 2.0 ** 1.5), (np.float64(2.0) * x, 3.0),
                             (x + 1, 2.5)]:
        assert isinstance(result, node)
        assert result.value == pytest.approx(expected, rel=1e-15)


def test_plain_numbers_on_the_left_give_the_right_derivatives():
    x = forward.ForwardValue(1.5)
    assert (3 - x).forward_grads[x] == -1.0
    assert (2 / x).forward_grads[x] == pytest.approx(-2 / 1.5 ** 2, rel=1e-15)
    assert (x ** 3).forward_grads[x] == pytest.approx(3 * 1.5 ** 2, rel=1e-15)
    a = reverse.AutogradValue(1.5)
    (2 / a).backward()
    assert a.grad == pytest.approx(-2 / 1.5 ** 2, rel=1e-15)
    arr = forward.ForwardValue(np.array([1.0, 2.0]))
    y = np.array([3.0, 5.0]) * arr
    assert isinstance(y, forward.ForwardValue)
    np.testing.assert_array_equal(y.forward_grads[arr], [3.0, 5.0])


@given(st.lists(st.floats(-2, 2), min_size=2, max_size=2), programs(n_inputs=2))
def test_random_compositions_match_hips_autograd(xs, program):
    def ours(*values):
        return run_program(program, list(values), method_table())[-1]

    def theirs(values):
        return run_program(program, [values[0], values[1]], autograd_table())[-1]

    expected = autograd.grad(theirs)(np.array(xs))
    got_reverse = reverse.grad(ours)(*xs)
    got_forward = forward.jacobian(ours, *xs)[0]
    assert_close(got_reverse, expected, EXACT_ATOL, EXACT_RTOL, f"reverse on {program}")
    assert_close(got_forward, expected, EXACT_ATOL, EXACT_RTOL, f"forward on {program}")
