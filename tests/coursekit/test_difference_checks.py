"""Notebook 01's checks accept correct difference quotients and explain wrong ones."""

import numpy as np
import pytest
from coursekit.checks import CheckFailure
from coursekit.difference_checks import (
    check_central_difference,
    check_elementwise,
    check_forward_difference,
    check_numerical_gradient,
)


def forward(f, x, h):
    return (f(x + h) - f(x)) / h


def central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def gradient(f, x, h):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        out[i] = (f(plus) - f(minus)) / (2 * h)
    return out


def test_correct_quotients_pass():
    check_forward_difference(forward, seeds=(0, 1, 2))
    check_central_difference(central, seeds=(0, 1, 2))
    check_elementwise(forward, "forward_difference", 1e-7)
    check_elementwise(central, "central_difference", 1e-5)
    check_numerical_gradient(gradient, shapes=[(1,), (3,), (2, 3), (2, 2, 2)])


def test_a_central_difference_is_not_a_forward_difference():
    with pytest.raises(CheckFailure, match="looks like a central difference"):
        check_forward_difference(central)


def test_a_backward_difference_has_the_wrong_sign_of_error():
    with pytest.raises(CheckFailure, match="wrong sign"):
        check_forward_difference(lambda f, x, h: (f(x) - f(x - h)) / h)


def test_a_forward_difference_is_not_a_central_difference():
    with pytest.raises(CheckFailure, match="central_difference"):
        check_central_difference(forward)


def test_a_central_difference_that_ignores_h_is_caught():
    with pytest.raises(CheckFailure, match="using the step h"):
        check_central_difference(lambda f, x, h: central(f, x, 1e-5))


def test_a_gradient_of_the_wrong_shape_is_reported_before_its_values():
    with pytest.raises(CheckFailure, match="must have x's shape"):
        check_numerical_gradient(lambda f, x, h: gradient(f, x, h).ravel(), shapes=[(2, 3)])


def test_a_gradient_that_changes_x_is_caught():
    def sloppy(f, x, h):
        out = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            x[i] += h
            up = f(x)
            x[i] -= 2 * h
            out[i] = (up - f(x)) / (2 * h)
        return out

    with pytest.raises(CheckFailure, match="changed its input"):
        check_numerical_gradient(sloppy)


def test_not_implemented_passes_through():
    def stub(f, x, h):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check_forward_difference(stub)
