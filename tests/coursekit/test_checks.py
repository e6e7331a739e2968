"""The shared checker passes correct ops and fails typical bugs with a useful message."""

import math

import numpy as np
import pytest
from coursekit.checks import (
    CheckFailure,
    check_close,
    check_derivative,
    check_gradient,
    check_op,
    check_vjp,
)


class _mul:
    def func(self, a, b):
        return a * b

    def grads(self, a, b):
        return b, a


class _mul_list(_mul):
    def grads(self, a, b):
        return [np.float64(b), a]


class _mul_swapped(_mul):
    def grads(self, a, b):
        return a, b


class _div:
    def func(self, a, b):
        return a / b

    def grads(self, a, b):
        return 1 / b, -a / b**2


class _div_sign(_div):
    def grads(self, a, b):
        return 1 / b, a / b**2


class _exp_math:
    def func(self, a):
        return math.exp(a)

    def grads(self, a):
        return (math.exp(a),)


class _exp_bare:
    def func(self, a):
        return np.exp(a)

    def grads(self, a):
        return np.exp(a)


class _stub:
    def func(self, a, b):
        raise NotImplementedError()

    def grads(self, a, b):
        raise NotImplementedError()


class _always_equal:
    def __eq__(self, other):
        return True


class _cheat(_mul):
    def func(self, a, b):
        return _always_equal()


def test_correct_ops_pass_in_any_reasonable_form():
    check_op(_mul, np.multiply, ["real", "real"])
    check_op(_mul_list, np.multiply, ["real", "real"])
    check_op(_div, np.divide, ["real", "nonzero"])


@pytest.mark.parametrize(
    "op, reference, domains, message",
    [
        (_mul_swapped, np.multiply, ["real", "real"], "another input"),
        (_div_sign, np.divide, ["real", "nonzero"], "check the sign"),
        (_exp_math, np.exp, ["real"], "math module"),
        (_exp_bare, np.exp, ["real"], "tuple"),
        (_cheat, np.multiply, ["real", "real"], "not a number"),
    ],
)
def test_typical_bugs_fail_with_a_hint(op, reference, domains, message):
    with pytest.raises(CheckFailure, match=message) as failure:
        check_op(op, reference, domains)
    assert f"`{op.__name__}." in str(failure.value)
    assert "seed" in str(failure.value)


def test_stub_reports_not_implemented_unchanged():
    with pytest.raises(NotImplementedError):
        check_op(_stub, np.multiply, ["real", "real"])


class _matmul:
    def vjp(self, g, a, b):
        return g @ b.T, a.T @ g


class _matmul_untransposed(_matmul):
    def vjp(self, g, a, b):
        return g @ b.T, a.T @ g * 2


class _add_unreduced:
    def vjp(self, g, a, b):
        return g, g


class _add:
    def vjp(self, g, a, b):
        return g, g.sum(axis=0)


def test_vjp_checks_shapes_then_values():
    check_vjp(_matmul, np.matmul, [(3, 4), (4, 2)])
    check_vjp(_add, np.add, [(3, 4), (4,)])
    with pytest.raises(CheckFailure, match="sum the gradient over the broadcast axes"):
        check_vjp(_add_unreduced, np.add, [(3, 4), (4,)])
    with pytest.raises(CheckFailure, match="exactly twice the expected value"):
        check_vjp(_matmul_untransposed, np.matmul, [(3, 4), (4, 2)])


def test_gradient_and_derivative_checks():
    def f(x, y, z):
        return (x + y) * z

    check_gradient(lambda x, y, z: (z, z, x + y), f, [-2.0, 5.0, -4.0], "xyz", "grad f")
    with pytest.raises(CheckFailure, match="d/dz"):
        check_gradient(lambda x, y, z: (z, z, x), f, [-2.0, 5.0, -4.0], "xyz", "grad f")

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    check_derivative(lambda x: sigmoid(x) * (1 - sigmoid(x)), sigmoid, "real", "dsigmoid")
    with pytest.raises(CheckFailure):
        check_derivative(lambda x: 1 - np.tanh(x) ** 2, sigmoid, "real", "dsigmoid")


def test_check_close_reports_shape_before_values():
    with pytest.raises(CheckFailure, match=r"shape \(3,\)"):
        check_close(np.zeros(3), np.zeros((2, 3)), "x")
    check_close(np.float64(2.0), 2.0 + 1e-9, "x")


class _relu_if:
    def func(self, a):
        return a if a > 0 else 0.0

    def grads(self, a):
        return (1.0 if a > 0 else 0.0,)


class _matmul_shapes:
    def vjp(self, g, a, b):
        return g @ b, a.T @ g


def test_errors_on_arrays_get_the_hint_that_fits_them():
    with pytest.raises(CheckFailure, match="np.where or a boolean mask"):
        check_op(_relu_if, lambda a: np.maximum(a, 0), ["away_from_zero"])
    with pytest.raises(CheckFailure, match="write down the shape of every array"):
        check_vjp(_matmul_shapes, np.matmul, [(3, 4), (4, 2)])


def test_failure_positions_print_as_plain_integers():
    with pytest.raises(CheckFailure) as failure:
        check_close(np.array([1.0, 2.0]), np.array([1.0, 3.0]), "x")
    assert "(entry (1,))" in str(failure.value)


class _Peeker:
    """A result that, when converted to an array, copies whatever expected value it can find
    in the frames that are converting it (an attack found while hardening the grader)."""

    def __array__(self, dtype=None, copy=None):
        import sys

        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "exp"):
                found = frame.f_locals.get(name)
                numbers = (np.ndarray, np.generic)
                if isinstance(found, numbers):
                    return np.array(found, dtype=dtype)
                if isinstance(found, list) and found and isinstance(found[0], numbers):
                    return np.array(found[0], dtype=dtype)
            frame = frame.f_back
        return np.array(0.0, dtype=dtype)


class _exp_peeking:
    def func(self, a):
        return np.exp(a)

    def grads(self, a):
        return (_Peeker(),)


def test_a_result_cannot_copy_the_expected_value_from_the_checker():
    with pytest.raises(CheckFailure, match="_exp_peeking.grads"):
        check_op(_exp_peeking, np.exp, ["real"])
    with pytest.raises(CheckFailure, match="sigmoid'"):
        check_derivative(lambda x: _Peeker(), lambda x: 1 / (1 + np.exp(-x)), "real", "sigmoid'")


# ------------------------------------------------------------- hints for the typical bugs


def test_an_overwritten_path_at_one_point_is_reported_as_half():
    """Notebook 02's overwrite bug (`da = db * 5` instead of `+=`) gives exactly half."""
    def overwriting(x):
        a = x**2
        b = 5 * a
        da = b * 1.0  # dc/da through the first input of c = a * b ...
        da = a * 5  # ... overwritten by the path through b (dc/db = a, times db/da = 5)
        return (da * 2 * x,)

    with pytest.raises(CheckFailure, match="exactly half the expected value"):
        check_gradient(overwriting, lambda x: x**2 * (5 * x**2), [1.5], ["x"], "`backward_reused`")


def test_a_missing_factor_at_notebook_02s_worked_point_is_not_called_a_sign_error():
    """At (w, x) = (0.8, 1.5) forgetting the inner factor 2x is not mistaken for a flipped
    sign (at the old point x = -0.5, 2x = -1 made it look like one)."""
    def nll(w, x):
        return -np.log(1 / (1 + np.exp(-w * x**2)))

    def missing_inner_factor(w, x):
        c = 1 / (1 + np.exp(-w * x**2))
        return (c - 1) * x**2, (c - 1) * w

    with pytest.raises(CheckFailure) as failure:
        check_gradient(missing_inner_factor, nll, [0.8, 1.5], ["w", "x"], "`backward_nll`")
    assert "sign" not in str(failure.value)


def test_telling_factors_give_no_hint_where_they_do_not_hold():
    from coursekit.checks import hint_for

    assert "half" not in hint_for(np.array(0.49), np.array(1.0), [])
    assert "twice" not in hint_for(np.array(2.1), np.array(1.0), [])
    assert "flipped" in hint_for(np.array(-1.0), np.array(1.0), [])


class _sigmoid_without_g:
    def vjp(self, g, x):
        s = 1 / (1 + np.exp(-x))
        return (s * (1 - s),)


def test_a_vjp_that_forgets_the_upstream_gradient_is_told_so():
    with pytest.raises(CheckFailure, match="upstream gradient of all ones"):
        check_vjp(_sigmoid_without_g, lambda x: 1 / (1 + np.exp(-x)), [(3, 4)])


class _pow_without_log:
    def func(self, a, b):
        return a**b

    def grads(self, a, b):
        return b * a ** (b - 1), a**b


def test_a_power_missing_ln_a_is_told_which_factor():
    with pytest.raises(CheckFailure, match="a factor ln a is missing") as failure:
        check_op(_pow_without_log, np.power, ["positive", "real"])
    assert "second input (b)" in str(failure.value)


class _Node:
    """Notebook 04's engine in miniature: the constructor stores the value."""

    def __init__(self, *args):
        self.value = self.func(*args)


class _tanh_own_value(_Node):
    def func(self, a):
        return np.tanh(a)

    def grads(self, a):
        return (1 - self.value**2,)


def test_grads_reusing_the_nodes_own_value_pass_when_the_node_is_constructed():
    check_op(_tanh_own_value, np.tanh, ["real"], construct=True)
    with pytest.raises(CheckFailure, match="before `self.value` exists"):
        check_op(_tanh_own_value, np.tanh, ["real"])
