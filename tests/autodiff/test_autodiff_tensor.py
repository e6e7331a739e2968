"""Tensor ops: values against numpy, vjps against central differences of <g, f(x)> with a random
upstream gradient g, broadcasting reduced back to each input's shape, losses, and HIPS autograd."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autodiff import tensor
from autodiff.numerical import numerical_gradient
from autodiff.tensor import Tensor
from hypothesis import given
from hypothesis import strategies as st

from tests.autodiff.autodiff_strategies import (
    EXACT_ATOL,
    EXACT_RTOL,
    FD_ATOL,
    FD_RTOL,
    OPS,
    assert_close,
    op_array_inputs,
)


def check_vjp(f_tensor, f_numpy, inputs, seed=0, what=""):
    """Gradients of sum(g * f(inputs)) for a random g, against central differences."""
    rng = np.random.default_rng(seed)
    leaves = [Tensor(x, requires_grad=True) for x in inputs]
    out = f_tensor(*leaves)
    expected_value = f_numpy(*inputs)
    assert_close(out.data, expected_value, 0.0, 1e-12, f"{what} value")
    g = rng.normal(size=np.shape(expected_value))
    out.backward(g)
    for i, (leaf, x) in enumerate(zip(leaves, inputs)):
        def along_i(v, i=i):
            args = list(inputs)
            args[i] = v
            return float(np.sum(g * f_numpy(*args)))

        numeric = numerical_gradient(along_i, x)
        assert leaf.grad is not None and leaf.grad.shape == np.shape(x), f"{what} grad shape"
        assert_close(leaf.grad, numeric, FD_ATOL, FD_RTOL, f"{what} gradient of input {i}")


ELEMENTWISE = {
    "_add": lambda a, b: a + b, "_sub": lambda a, b: a - b, "_mul": lambda a, b: a * b,
    "_div": lambda a, b: a / b, "_pow": lambda a, b: a ** b, "_neg": lambda a: -a,
    "_exp": Tensor.exp, "_log": Tensor.log, "_sin": Tensor.sin, "_cos": Tensor.cos,
    "_tanh": Tensor.tanh, "_sigmoid": Tensor.sigmoid, "_relu": Tensor.relu,
}


@pytest.mark.parametrize("op_name", sorted(ELEMENTWISE))
def test_elementwise_op_values_and_vjps(op_name):
    spec = OPS[op_name]

    @given(op_array_inputs(spec, size=5), st.integers(0, 2 ** 16))
    def check(xs, seed):
        result = ELEMENTWISE[op_name](*[Tensor(x) for x in xs])
        assert type(result) is getattr(tensor, op_name)
        check_vjp(ELEMENTWISE[op_name], spec.reference, list(xs), seed, f"Tensor {op_name}")

    check()


@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)),
                                    ((2, 3), ())])
@pytest.mark.parametrize("op_name", ["_add", "_sub", "_mul", "_div"])
def test_broadcasting_gradients_have_the_input_shapes(shapes, op_name):
    rng = np.random.default_rng(7)
    a = rng.normal(size=shapes[0])
    b = rng.uniform(0.5, 2.0, size=shapes[1]) * rng.choice([-1.0, 1.0], size=shapes[1])
    check_vjp(ELEMENTWISE[op_name], OPS[op_name].reference, [a, b], 1,
              f"{op_name} with shapes {shapes}")


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2 ** 16))
def test_matmul_vjp(n, k, m, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, k)), rng.normal(size=(k, m))
    assert type(Tensor(a) @ Tensor(b)) is tensor._matmul
    check_vjp(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], seed, "matmul")
    check_vjp(lambda x, y: x @ y, lambda x, y: x @ y, [a, b[:, 0]], seed, "matrix @ vector")


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_vjps(axis, keepdims):
    x = np.random.default_rng(2).normal(size=(3, 4))
    assert type(Tensor(x).sum(axis)) is tensor._sum
    check_vjp(lambda t: t.sum(axis, keepdims), lambda v: np.sum(v, axis, keepdims=keepdims),
              [x], 3, f"sum axis={axis}")
    check_vjp(lambda t: t.mean(axis, keepdims), lambda v: np.mean(v, axis, keepdims=keepdims),
              [x], 4, f"mean axis={axis}")


def test_reshape_transpose_and_log_softmax_vjps():
    x = np.random.default_rng(5).normal(size=(3, 4))
    check_vjp(lambda t: t.reshape(2, 6), lambda v: v.reshape(2, 6), [x], 0, "reshape")
    check_vjp(lambda t: t.T, lambda v: v.T, [x], 1, "transpose")

    def log_softmax_numpy(v):
        shifted = v - v.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    check_vjp(lambda t: t.log_softmax(), log_softmax_numpy, [x], 2, "log_softmax")
    check_vjp(lambda t: tensor.log_softmax(t, axis=0), lambda v: log_softmax_numpy(v.T).T, [x],
              3, "log_softmax axis 0")


@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2 ** 16))
def test_softmax_cross_entropy_and_hinge(n, k, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(n, k)) * 3
    labels = rng.integers(0, k, n)

    def cross_entropy_numpy(s):
        shifted = s - s.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -np.mean(log_p[np.arange(n), labels])

    def hinge_numpy(s):
        margins = np.maximum(0.0, s - s[np.arange(n), labels][:, None] + 1.0)
        margins[np.arange(n), labels] = 0.0
        return margins.sum() / n

    check_vjp(lambda s: tensor.softmax_cross_entropy(s, labels), cross_entropy_numpy, [scores],
              seed, "softmax_cross_entropy")
    margins = scores - scores[np.arange(n), labels][:, None] + 1.0
    if np.min(np.abs(margins)) > 1e-3:  # hinge kinks avoided
        check_vjp(lambda s: tensor.multiclass_hinge(s, labels), hinge_numpy, [scores], seed,
                  "multiclass_hinge")


def test_cross_entropy_is_stable_for_huge_logits():
    scores = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), requires_grad=True)
    loss = tensor.cross_entropy(scores, np.array([0, 0]))
    loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    np.testing.assert_allclose(scores.grad, [[0.0, 0.0], [-0.5, 0.5]], atol=1e-12)


@given(st.integers(0, 2 ** 16))
def test_a_mlp_loss_matches_hips_autograd(seed):
    rng = np.random.default_rng(seed)
    x, labels = rng.normal(size=(8, 3)), rng.integers(0, 4, 8)
    params = [rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 4)),
              rng.normal(size=4)]

    def theirs(p):
        h = anp.tanh(x @ p[0] + p[1]) * 0.5 + anp.sin(x @ p[0]) ** 2
        s = h @ p[2] + p[3]
        log_p = s - anp.log(anp.sum(anp.exp(s - anp.max(s, axis=1, keepdims=True)), axis=1,
                                    keepdims=True)) - anp.max(s, axis=1, keepdims=True)
        return -anp.mean(log_p[np.arange(8), labels])

    leaves = [Tensor(p, requires_grad=True) for p in params]
    h = (Tensor(x) @ leaves[0] + leaves[1]).tanh() * 0.5 + (Tensor(x) @ leaves[0]).sin() ** 2
    loss = tensor.softmax_cross_entropy(h @ leaves[2] + leaves[3], labels)
    loss.backward()
    expected = autograd.grad(theirs)(params)
    assert loss.item() == pytest.approx(theirs(params), rel=1e-12)
    for leaf, e in zip(leaves, expected):
        assert_close(leaf.grad, e, EXACT_ATOL, EXACT_RTOL, "MLP gradient against autograd")


def test_shared_tensor_and_second_backward():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = (x * x + x).sum()
    y.backward()
    first = x.grad.copy()
    np.testing.assert_array_equal(first, 2 * x.data + 1)
    y.backward()
    np.testing.assert_array_equal(x.grad, first)  # idempotent, not accumulated


def test_leaf_gradients_are_independent_arrays():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).backward()
    a.grad *= 5.0
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_constants_get_no_gradient_and_backward_without_grad_raises():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    x = Tensor(np.eye(2))
    (x @ w).sum().backward()
    assert x.grad is None and w.grad.shape == (2, 2)
    with pytest.raises(RuntimeError, match="requires_grad"):
        (x * 2.0).sum().backward()
