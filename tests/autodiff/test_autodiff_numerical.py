"""Finite differences: accuracy at the default step, shapes, and the comparison helpers."""

from __future__ import annotations

import numpy as np
import pytest
from autodiff.numerical import (
    EPS,
    central_difference,
    close_enough,
    default_step,
    forward_difference,
    numerical_gradient,
    numerical_jacobian,
    relative_error,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.autodiff.autodiff_strategies import assert_close


@given(st.floats(-5, 5))
def test_central_difference_is_accurate_to_about_1e_9(x):
    assert abs(central_difference(np.sin, x) - np.cos(x)) <= 1e-10 + 1e-8 * abs(np.cos(x))


@given(st.floats(-5, 5))
def test_forward_difference_is_accurate_to_about_sqrt_eps(x):
    # truncation h/2 |f''| with h = sqrt(eps) max(1, |x|), plus round-off: relative ~1e-8 |x|
    assert relative_error(forward_difference(np.exp, x), np.exp(x)) <= 1e-7 * max(1.0, abs(x))


def test_central_beats_forward_at_their_default_steps():
    xs = np.linspace(0.2, 3.0, 15)
    fwd = np.abs(forward_difference(np.log, xs) - 1 / xs)
    ctr = np.abs(central_difference(np.log, xs) - 1 / xs)
    assert ctr.shape == fwd.shape == xs.shape
    assert np.max(ctr) < np.max(fwd) / 10


def test_default_steps_follow_the_rule():
    assert default_step(0.5) == pytest.approx(EPS ** (1 / 3))
    assert default_step(-200.0) == pytest.approx(200 * EPS ** (1 / 3))
    assert default_step(3.0, central=False) == pytest.approx(3 * EPS ** 0.5)


def test_a_given_step_is_used():
    # f = x^3: the central difference is exactly 3x^2 + h^2, so a big step shows
    assert central_difference(lambda x: x ** 3, 1.0, h=0.1) == pytest.approx(3 + 0.01, rel=1e-12)
    assert forward_difference(lambda x: x ** 2, 1.0, h=0.5) == pytest.approx(2.5, rel=1e-12)


def test_numerical_gradient_keeps_the_shape_and_is_right():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda v: np.sum(np.sin(w * v)), x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert_close(grad, w * np.cos(w * x), 1e-9, 1e-7, "numerical_gradient")
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v ** 2), x)
    np.testing.assert_array_equal(x, before)  # input left untouched


def test_numerical_jacobian_shape_is_outputs_then_inputs():
    a = np.arange(6.0).reshape(2, 3) - 2.5
    jac = numerical_jacobian(lambda v: a @ v, np.array([0.1, -0.2, 0.3]))
    assert jac.shape == (2, 3)
    assert_close(jac, a, 1e-9, 1e-7, "jacobian of a linear map")


def test_comparison_helpers():
    assert relative_error(1.0, 1.0 + 1e-6) == pytest.approx(1e-6, rel=1e-5)
    assert relative_error(0.0, 0.0) == 0.0
    assert close_enough(1.0, 1.0 + 5e-7)
    assert not close_enough(1.0, 1.01)
    assert close_enough(0.0, 2e-7)  # the absolute part covers saturated tanh/sigmoid
    assert not close_enough(np.zeros(3), np.zeros(4))  # shapes must match
