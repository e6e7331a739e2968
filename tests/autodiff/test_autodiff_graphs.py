"""Whole graphs: forward and reverse mode agree, reverse mode handles long chains, shared nodes
and repeated backward calls, the lecture's worked examples come out right."""

from __future__ import annotations

import math

import numpy as np
import pytest
from autodiff import forward, reverse
from autodiff.numerical import numerical_gradient, numerical_jacobian
from autodiff.reverse import AutogradValue
from hypothesis import given
from hypothesis import strategies as st

from tests.autodiff.autodiff_strategies import (
    EXACT_ATOL,
    EXACT_RTOL,
    FD_ATOL,
    FD_RTOL,
    assert_close,
    method_table,
    programs,
    run_program,
)


@st.composite
def functions_rn_to_rm(draw):
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    program = draw(programs(n_inputs=n, min_steps=m, max_steps=8))
    xs = draw(st.lists(st.floats(-2, 2), min_size=n, max_size=n))
    return n, m, program, xs


@given(functions_rn_to_rm())
def test_forward_and_reverse_jacobians_agree(case):
    n, m, program, xs = case

    def f(*values):
        return run_program(program, list(values), method_table())[-m:]

    jac_forward = forward.jacobian(f, *xs)
    jac_reverse = reverse.jacobian(f, *xs)
    assert jac_forward.shape == jac_reverse.shape == (m, n)
    assert_close(jac_reverse, jac_forward, EXACT_ATOL, EXACT_RTOL, f"Jacobians of {program}")


def test_jacobians_against_finite_differences_on_a_smooth_map():
    def f(x, y, z):
        return [x * y.sin() + z, (x * z).exp() / (y * y + 1.0), (x - z).tanh() ** 2]

    def f_numpy(v):
        x, y, z = v
        return np.array([x * np.sin(y) + z, np.exp(x * z) / (y * y + 1), np.tanh(x - z) ** 2])

    point = np.array([0.3, -1.2, 0.7])
    numeric = numerical_jacobian(f_numpy, point)
    assert_close(forward.jacobian(f, *point), numeric, FD_ATOL, FD_RTOL, "forward Jacobian")
    assert_close(reverse.jacobian(f, *point), numeric, FD_ATOL, FD_RTOL, "reverse Jacobian")


def test_a_chain_of_100_000_ops_backpropagates_without_recursion():
    x = AutogradValue(0.5)
    y = x
    for _ in range(50_000):
        y = (y * 1.0001).sin()  # two ops per step
    y.backward()
    # d/dy_k sin(1.0001 y_k) = 1.0001 cos(1.0001 y_k): multiply the factors along the chain
    expected, value = 1.0, 0.5
    for _ in range(50_000):
        expected *= 1.0001 * math.cos(1.0001 * value)
        value = math.sin(1.0001 * value)
    assert y.value == pytest.approx(value, rel=1e-12)
    assert x.grad == pytest.approx(expected, rel=1e-9)


def test_a_node_used_twice_receives_both_paths():
    # lecture: a = x^2, b = 5a, c = a*b, L = -c  =>  dc/da = b + 5a = 10a, dL/dx = -10a * 2x
    x = AutogradValue(1.5)
    a = x ** 2
    b = 5 * a
    c = a * b
    loss = -c
    loss.backward()
    assert a.grad == pytest.approx(-10 * 1.5 ** 2, rel=1e-14)
    assert x.grad == pytest.approx(-10 * 1.5 ** 2 * 2 * 1.5, rel=1e-14)
    y = x * x
    y.backward()
    assert x.grad == pytest.approx(2 * 1.5, rel=1e-15)


def test_second_backward_gives_the_same_gradients():
    x, y = AutogradValue(0.7), AutogradValue(-1.3)
    out = (x * y).sin() + x.exp() / y
    out.backward()
    first = (x.grad, y.grad)
    out.backward()
    assert (x.grad, y.grad) == first
    # a gradient not of 1 seeds the pass, and it replaces (not adds to) the previous one
    out.backward(2.0)
    assert (x.grad, y.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-15)


def test_backward_pass_sends_the_upstream_gradient_times_each_local_derivative():
    a, b = AutogradValue(2.0), AutogradValue(-3.0)
    node = a * b
    node.grad = 0.5
    node.backward_pass()
    assert (a.grad, b.grad) == (0.5 * -3.0, 0.5 * 2.0)
    const_times = 4.0 * a  # the constant parent is skipped, a still gets its share
    const_times.grad = 1.0
    const_times.backward_pass()
    assert a.grad == 0.5 * -3.0 + 4.0


def test_lecture_example_two_inputs():
    # y = e^{xz} + xz / ln x + sin(ln x) / (xz) at (x, z) = (2, 3)
    def f(x, z):
        return (x * z).exp() + x * z / x.log() + x.log().sin() / (x * z)

    def f_numpy(v):
        x, z = v
        return np.exp(x * z) + x * z / np.log(x) + np.sin(np.log(x)) / (x * z)

    expected = numerical_gradient(f_numpy, np.array([2.0, 3.0]))
    assert_close(reverse.grad(f)(2.0, 3.0), expected, FD_ATOL, FD_RTOL, "reverse")
    assert_close(forward.jacobian(f, 2.0, 3.0)[0], expected, FD_ATOL, FD_RTOL, "forward")


def test_sum_x_y_times_z_gate_example():
    x, y, z = AutogradValue(-2.0), AutogradValue(5.0), AutogradValue(-4.0)
    f = (x + y) * z
    f.backward()
    assert (f.value, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


def test_vjp_pulls_back_any_cotangent():
    w = np.array([0.5, -1.0, 2.0])
    value, pullback = reverse.vjp(lambda x: (x * w).sin(), np.array([0.1, 0.2, 0.3]))
    np.testing.assert_allclose(value, np.sin(w * [0.1, 0.2, 0.3]), rtol=1e-15)
    g = np.array([1.0, -2.0, 0.5])
    expected = g * w * np.cos(w * [0.1, 0.2, 0.3])
    assert_close(pullback(g), expected, 0.0, 1e-14, "vjp")
    assert_close(pullback(g), expected, 0.0, 1e-14, "vjp, second call")


def test_matmul_in_both_engines():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    g = rng.normal(size=(3, 2))
    A, B = AutogradValue(a), AutogradValue(b)
    (A @ B).backward(g)
    assert_close(A.grad, g @ b.T, 0.0, 1e-14, "dA")
    assert_close(B.grad, a.T @ g, 0.0, 1e-14, "dB")
    direction = rng.normal(size=(3, 4))
    Af = forward.ForwardValue(a)
    Af.forward_grads = {Af: direction}
    out = Af @ b
    assert_close(out.forward_grads[Af], direction @ b, 0.0, 1e-14, "forward tangent")
