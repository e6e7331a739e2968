"""The forward-mode checks pass a correct ForwardValue and fail typical propagation bugs."""

from __future__ import annotations

import numpy as np
import pytest
from coursekit.checks import CheckFailure
from coursekit.forward_checks import (
    check_expression,
    check_jacobian,
    helper_ops,
    numerical_jacobian,
    plan_function,
    propagation_ok,
    random_plans,
)


def _correct(self, args, local_grads):
    grads = self.forward_grads
    for parent, local in zip(args, local_grads):
        if isinstance(parent, self.base):
            for variable, tangent in parent.forward_grads.items():
                grads[variable] = grads.get(variable, 0.0) + local * tangent


def _overwrites(self, args, local_grads):
    for parent, local in zip(args, local_grads):
        if isinstance(parent, self.base):
            for variable, tangent in parent.forward_grads.items():
                self.forward_grads[variable] = local * tangent


def _parents_as_keys(self, args, local_grads):
    for parent, local in zip(args, local_grads):
        if isinstance(parent, self.base):
            self.forward_grads[parent] = local


def _raw_values(self, args, local_grads):
    _correct(self, self.parent_values, local_grads)


def _unfinished(self, args, local_grads):
    raise NotImplementedError()


def make_forward_value(propagate):
    """A ForwardValue as the notebook defines it, with `propagate` as the exercise's loop."""

    class ForwardValue:
        __array_ufunc__ = None

        def __init__(self, *args):
            self.parent_values = [a.value if isinstance(a, ForwardValue) else a for a in args]
            self.value = self.forward_pass(args)
            if len(self.forward_grads) == 0:
                self.forward_grads = {self: 1.0}

        def func(self, x):
            return x

        def grads(self, x):
            return (1.0,)

        def forward_pass(self, args):
            self.forward_grads = {}
            propagate(self, args, self.grads(*self.parent_values))
            return self.func(*self.parent_values)

    ForwardValue.base = ForwardValue

    class _add(ForwardValue):
        def func(self, a, b):
            return a + b

        def grads(self, a, b):
            return 1.0, 1.0

    class _neg(ForwardValue):
        def func(self, a):
            return -a

        def grads(self, a):
            return (-1.0,)

    ForwardValue.__add__ = lambda self, other: _add(self, other)
    ForwardValue.__radd__ = lambda self, other: _add(other, self)
    ForwardValue.__neg__ = lambda self: _neg(self)
    return ForwardValue


def _expression(fv, **kwargs):
    atan, hypot = helper_ops(fv)
    check_expression(
        fv, lambda x, y: atan(hypot(x, y) + x) + (-y) + hypot(x, 2.0),
        lambda x, y: np.arctan(np.hypot(x, y) + x) - y + np.hypot(x, 2.0),
        ["nonzero", "nonzero"], text="atan(hypot(x, y) + x) + (-y) + hypot(x, 2)", **kwargs,
    )


def _jacobian(fv):
    def jacobian(f, *xs):
        columns = []
        for j in range(len(xs)):
            inputs = [fv(x) if k == j else x for k, x in enumerate(xs)]
            columns.append([
                out.forward_grads.get(inputs[j], 0.0) if isinstance(out, fv) else 0.0
                for out in f(*inputs)
            ])
        return np.array(columns, dtype=float).T

    return jacobian


def test_a_correct_forward_value_passes_on_floats_and_arrays():
    fv = make_forward_value(_correct)
    _expression(fv, seeds=[0, 1, 2], shapes=[(), (4,), (2, 3)])
    assert propagation_ok(fv)


def test_reuse_of_a_variable_must_add_up():
    fv = make_forward_value(_overwrites)
    with pytest.raises(CheckFailure, match="add up"):
        _expression(fv)
    assert not propagation_ok(fv)


def test_keys_must_be_the_input_variables():
    with pytest.raises(CheckFailure, match="not input variables"):
        _expression(make_forward_value(_parents_as_keys))


def test_an_empty_propagation_is_named():
    with pytest.raises(CheckFailure, match="maps the result to itself"):
        _expression(make_forward_value(_raw_values))


def test_unfinished_forward_pass_says_not_implemented():
    fv = make_forward_value(_unfinished)
    with pytest.raises(NotImplementedError):
        _expression(fv)
    with pytest.raises(NotImplementedError):
        check_jacobian(_jacobian(fv), fv)
    assert not propagation_ok(fv)


def test_a_correct_jacobian_passes():
    fv = make_forward_value(_correct)
    check_jacobian(_jacobian(fv), fv, sizes=[(1, 1), (3, 2), (2, 4), (5, 3)], seeds=[0, 1, 2])


def test_a_transposed_jacobian_fails_on_its_shape():
    fv = make_forward_value(_correct)
    jacobian = _jacobian(fv)
    with pytest.raises(CheckFailure, match=r"shape \(3, 2\).*expected \(2, 3\)"):
        check_jacobian(lambda f, *xs: jacobian(f, *xs).T, fv, sizes=[(3, 2)])


def test_a_jacobian_with_columns_for_the_wrong_input_fails():
    fv = make_forward_value(_correct)
    jacobian = _jacobian(fv)
    with pytest.raises(CheckFailure, match="jacobian` is wrong"):
        check_jacobian(lambda f, *xs: jacobian(f, *xs)[:, ::-1], fv, sizes=[(3, 2)])


def test_random_functions_give_plain_numbers_for_inputs_they_ignore():
    """So a jacobian that assumes every output is a ForwardValue fails the check."""
    fv = make_forward_value(_correct)
    f = plan_function(random_plans(np.random.default_rng(0), 3, 2), fv)
    kinds = set()
    for j in range(3):
        inputs = [fv(0.3) if k == j else 0.3 for k in range(3)]
        kinds |= {isinstance(out, fv) for out in f(*inputs)}
    assert kinds == {True, False}


def test_numerical_jacobian_of_polar_coordinates():
    def polar(r, theta):
        return [r * np.cos(theta), r * np.sin(theta)]

    r, theta = 2.0, 0.6
    expected = np.array([[np.cos(theta), -r * np.sin(theta)], [np.sin(theta), r * np.cos(theta)]])
    np.testing.assert_allclose(numerical_jacobian(polar, [r, theta]), expected, rtol=1e-8)
