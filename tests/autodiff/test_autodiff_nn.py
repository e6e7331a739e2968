"""Training works: the MLP reaches the accuracies the course promises, quickly, reproducibly."""

from __future__ import annotations

import time

import numpy as np
import pytest
from autodiff import nn
from autodiff.tensor import Tensor
from coursekit import datasets


def test_mlp_fits_moons_within_500_steps():
    X, y = datasets.moons(200, noise=0.1, seed=0)
    model = nn.MLP([2, 32, 2], activation="relu", seed=0)
    history = nn.train(model, nn.cross_entropy_loss, X, y, nn.SGD(lr=0.1, momentum=0.9),
                       steps=500, progress=False)
    assert len(history) == 500 and history[-1] < history[0]
    assert nn.accuracy(model, X, y) >= 0.97


def test_mlp_on_digits_reaches_90_percent_held_out_quickly():
    X_train, y_train, X_test, y_test = datasets.digits(seed=0)
    assert X_train.shape[1] == 64 and len(X_train) + len(X_test) == 1797
    model = nn.MLP([64, 64, 10], seed=0)
    start = time.perf_counter()
    nn.train(model, nn.cross_entropy_loss, X_train, y_train, nn.SGD(lr=0.1, momentum=0.9),
             steps=600, batch_size=64, progress=False)
    seconds = time.perf_counter() - start
    accuracy = nn.accuracy(model, X_test, y_test)
    print(f"digits: held-out accuracy {accuracy:.3f} after {seconds:.2f} s of training")
    assert accuracy >= 0.90
    assert seconds < 20.0


def test_training_is_reproducible():
    X, y = datasets.xor(100, seed=3)
    runs = []
    for _ in range(2):
        model = nn.MLP([2, 8, 2], activation="tanh", seed=1)
        runs.append(nn.train(model, nn.svm_hinge_loss, X, y, nn.SGD(0.05, 0.5), steps=30,
                             batch_size=16, seed=2, progress=False))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("loss_fn", [
    nn.binary_nll,  # labels 0/1
    lambda scores, y: nn.mse_loss(scores, 2 * y - 1),  # regress on -1/+1, so score > 0 is 1
])
def test_one_output_losses_train_on_circles(loss_fn):
    X, y = datasets.circles(200, seed=0)
    model = nn.MLP([2, 16, 16, 1], activation="tanh", seed=0)
    history = nn.train(model, loss_fn, X, y, nn.SGD(0.1, 0.9), steps=300, progress=False)
    assert history[-1] < 0.5 * history[0]
    assert nn.accuracy(model, X, y) >= 0.9


def test_losses_against_numpy():
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(6, 1)), rng.integers(0, 2, 6)
    expected_nll = np.mean(np.log1p(np.exp(-(2 * t - 1) * s[:, 0])))
    assert nn.binary_nll(Tensor(s), t).item() == pytest.approx(expected_nll, rel=1e-12)
    assert nn.mse_loss(Tensor(s), t).item() == pytest.approx(np.mean((s[:, 0] - t) ** 2),
                                                            rel=1e-12)


def test_sgd_momentum_update():
    p = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    p.grad = np.array([0.5, -1.0])
    opt = nn.SGD(lr=0.1, momentum=0.9)
    opt.step([p])
    np.testing.assert_allclose(p.data, [0.95, 2.1])
    opt.step([p])  # v = 0.9 * v - lr * g
    np.testing.assert_allclose(p.data, [0.95 - 0.045 - 0.05, 2.1 + 0.09 + 0.1])


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "xor"])
def test_toy_data_sets_are_seeded(name):
    make = getattr(datasets, name)
    X1, y1 = make(seed=4)
    X2, y2 = make(seed=4)
    X3, _ = make(seed=5)
    assert X1.dtype == np.float64 and X1.shape == (len(y1), 2)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert set(np.unique(y1)) == set(range(int(y1.max()) + 1))
