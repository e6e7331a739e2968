"""Tensor.backward on graphs that are not a simple chain: shared nodes, reused graphs, deep chains,
the gradient seed, and the fast paths (row sums, flat label indexing) against plain numpy."""

from __future__ import annotations

import numpy as np
import pytest
from autodiff import tensor
from autodiff.tensor import Tensor


def test_a_node_feeding_ops_made_at_different_times_gets_all_its_gradient_first():
    # h feeds u (made right away) and, much later, v: h's vjp must wait for both
    x = Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    h = x * x
    u = h.sin()
    w = (x * 3.0).exp()
    v = h * w
    loss = (u + v).sum()
    loss.backward()
    expected = (np.cos(x.data ** 2) + np.exp(3 * x.data)) * 2 * x.data \
        + x.data ** 2 * 3 * np.exp(3 * x.data)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    np.testing.assert_allclose(h.grad, np.cos(x.data ** 2) + np.exp(3 * x.data), rtol=1e-12)


def test_a_graph_reused_by_two_losses_gets_the_gradient_of_the_last_one():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    shared = w * w
    first, second = shared.sum(), (shared * 3.0).sum()
    first.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data)
    second.backward()
    np.testing.assert_array_equal(w.grad, 6 * w.data)  # replaced, not added to the first
    np.testing.assert_array_equal(shared.grad, [3.0, 3.0])
    first.backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data)


def test_a_leaf_used_twice_in_one_op_and_its_gradient_is_its_own():
    a = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    out = a + a
    out.backward(np.array([1.0, 5.0]))
    np.testing.assert_array_equal(a.grad, [2.0, 10.0])
    b = Tensor(np.array([4.0, 4.0]), requires_grad=True)
    c = b.reshape(2, 1).T  # vjps that return views of g
    c.backward(np.array([[1.0, 2.0]]))
    assert b.grad.base is None and b.grad.flags.writeable
    b.grad *= 2.0
    np.testing.assert_array_equal(c.grad, [[1.0, 2.0]])


def test_the_seed_broadcasts_and_is_copied():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    y.backward(1.5)
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 3.0))
    seed = np.arange(6.0).reshape(2, 3)
    y.backward(seed)
    seed[:] = 0.0
    np.testing.assert_array_equal(y.grad, np.arange(6.0).reshape(2, 3))


def test_a_deep_tensor_chain_backpropagates_without_recursion():
    x = Tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


@pytest.mark.parametrize("shapes", [((5, 3), (3,)), ((4, 5, 3), (3,)), ((4, 5, 3), (5, 3)),
                                    ((0, 3), (3,))])
def test_unbroadcast_matches_numpy_sums(shapes):
    big, small = shapes
    g = np.random.default_rng(0).normal(size=big)
    leading = tuple(range(len(big) - len(small)))
    np.testing.assert_allclose(tensor.unbroadcast(g, small), g.sum(axis=leading), rtol=1e-12)
    np.testing.assert_allclose(tensor.unbroadcast(g.T.copy().T, small), g.sum(axis=leading),
                               rtol=1e-12)  # any memory layout


def test_cross_entropy_takes_logits_in_any_memory_layout():
    rng = np.random.default_rng(3)
    scores = np.asfortranarray(rng.normal(size=(6, 4)))
    labels = rng.integers(0, 4, 6)
    results = []
    for s in (scores, np.ascontiguousarray(scores)):
        t = Tensor(s, requires_grad=True)
        loss = tensor.softmax_cross_entropy(t, labels)
        loss.backward()
        results.append((loss.item(), t.grad))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-15)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-15)
    p = np.exp(scores - scores.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(6), labels] -= 1.0
    np.testing.assert_allclose(results[0][1], p / 6, rtol=1e-12)


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [[0], [1]], [0, 1, 1]])
def test_cross_entropy_rejects_labels_that_are_not_one_class_per_row(labels):
    scores = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError):
        tensor.softmax_cross_entropy(scores, labels)
