"""The whole-network gradient check: no false failures at ReLU kinks, real bugs still caught."""

import numpy as np
import pytest
from coursekit.checks import CheckFailure
from coursekit.network_checks import check_network_gradient, check_value_and_grad, compare_gradients

# Two readings of "a 64-2-32-2 ReLU net": 64 examples through layers 2-32-2 (the moons net),
# and 64 examples through layers 64-2-32-2 (digits-sized input, two ReLU layers).
NETS = {
    "batch 64, layers 2-32-2": (64, [2, 32, 2]),
    "batch 64, layers 64-2-32-2": (64, [64, 2, 32, 2]),
}


def make_net(seed, n, sizes):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], n)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"W{i}"] = rng.normal(size=(fan_in, fan_out)) * np.sqrt(2 / fan_in)
        params[f"b{i}"] = rng.normal(size=fan_out) * 0.1
    return X, y, params


def forward(params, X, y):
    """Mean softmax cross-entropy of a ReLU MLP; also the pre-activations and layer inputs."""
    layers = len(params) // 2
    h, pre, inputs = X, [], [X]
    for i in range(layers):
        z = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < layers - 1:
            pre.append(z)
            h = np.maximum(z, 0)
            inputs.append(h)
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), y].mean(), pre, inputs, np.exp(log_probs)


def backprop(params, X, y):
    _, pre, inputs, probs = forward(params, X, y)
    g = probs.copy()
    g[np.arange(len(y)), y] -= 1
    g /= len(y)
    grads = {}
    for i in reversed(range(len(params) // 2)):
        grads[f"W{i}"] = inputs[i].T @ g
        grads[f"b{i}"] = g.sum(axis=0)
        if i:
            g = (g @ params[f"W{i}"].T) * (pre[i - 1] > 0)
    return grads


def check(params, X, y, grads, kink_aware=True):
    return compare_gradients(
        lambda p: forward(p, X, y)[0], params, grads,
        (lambda p: forward(p, X, y)[1]) if kink_aware else None,
    )


@pytest.mark.parametrize("net", NETS)
def test_correct_gradients_never_fail_over_ten_seeds(net):
    n, sizes = NETS[net]
    failed = []
    for seed in range(10):
        X, y, params = make_net(seed, n, sizes)
        result = check(params, X, y, backprop(params, X, y))
        if not result.passed:
            failed.append((seed, str(result)))
        assert len(result.skipped) <= 0.05 * (result.checked + len(result.skipped))
    assert not failed, f"false failures: {failed}"


def _plant_kink(params, X, y, distance=1e-6):
    """Move one first-layer unit's bias so one example's pre-activation is `distance` from 0."""
    z = forward(params, X, y)[1][0]
    unit = int(np.argmax(np.abs(params["W1"]).sum(axis=1)))  # a unit that matters downstream
    params["b0"][unit] -= z[0, unit] - distance
    return unit


@pytest.mark.parametrize("net", NETS)
def test_a_kink_inside_the_step_fools_the_plain_check_but_not_this_one(net):
    n, sizes = NETS[net]
    X, y, params = make_net(0, n, sizes)
    _plant_kink(params, X, y)
    grads = backprop(params, X, y)
    plain = check(params, X, y, grads, kink_aware=False)
    assert not plain.passed, "the planted kink should break the plain central difference"
    aware = check(params, X, y, grads)
    assert aware.passed, str(aware)
    assert aware.shrunk or aware.skipped
    check_network_gradient(
        lambda p: forward(p, X, y)[0], params, grads, lambda p: forward(p, X, y)[1]
    )


BUGS = {
    "bias gradient sign flipped": lambda g: {**g, "b1": -g["b1"]},
    "missing 1/N of the mean": lambda g: {k: v * 64 for k, v in g.items()},
    "one weight off by 1%": lambda g: {**g, "W0": g["W0"] + 0.01 * np.abs(g["W0"]).max()
                                        * (np.arange(g["W0"].size) == 3).reshape(g["W0"].shape)},
    "first-layer gradient left at zero": lambda g: {**g, "W0": np.zeros_like(g["W0"])},
}


@pytest.mark.parametrize("bug", BUGS)
@pytest.mark.parametrize("net", NETS)
def test_a_wrong_gradient_still_fails(net, bug):
    n, sizes = NETS[net]
    X, y, params = make_net(1, n, sizes)
    wrong = BUGS[bug](backprop(params, X, y))
    with pytest.raises(CheckFailure, match="gradient is wrong"):
        check_network_gradient(
            lambda p: forward(p, X, y)[0], params, wrong, lambda p: forward(p, X, y)[1]
        )


def test_backprop_without_the_relu_mask_fails_even_near_kinks():
    X, y, params = make_net(2, *NETS["batch 64, layers 64-2-32-2"])
    _plant_kink(params, X, y)
    _, pre, inputs, probs = forward(params, X, y)
    good = backprop(params, X, y)
    # the bug: the gradient flows back through dead units (mask forgotten) into layer 0
    g = probs.copy()
    g[np.arange(len(y)), y] -= 1
    g /= len(y)
    g = (g @ params["W2"].T) * (pre[1] > 0)
    g = g @ params["W1"].T
    wrong = {**good, "W0": X.T @ g, "b0": g.sum(axis=0)}
    assert not check(params, X, y, wrong).passed


def test_wrong_shape_and_missing_gradient_are_named():
    X, y, params = make_net(0, *NETS["batch 64, layers 2-32-2"])
    grads = backprop(params, X, y)
    loss = lambda p: forward(p, X, y)[0]  # noqa: E731
    with pytest.raises(CheckFailure, match="shape"):
        check_network_gradient(loss, params, {**grads, "b0": grads["b0"][None, :]})
    with pytest.raises(CheckFailure, match="no gradient given for parameter 'W1'"):
        check_network_gradient(loss, params, {k: v for k, v in grads.items() if k != "W1"})


def test_params_are_left_unchanged():
    X, y, params = make_net(0, *NETS["batch 64, layers 2-32-2"])
    before = {k: v.copy() for k, v in params.items()}
    check(params, X, y, backprop(params, X, y))
    assert all(np.array_equal(before[k], params[k]) for k in params)


def _reference_loss(logits, labels):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(labels)), labels]).mean()


def _good_loss(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(len(labels)), labels]).mean()
    probs[np.arange(len(labels)), labels] -= 1
    return loss, probs / len(labels)


def test_value_and_grad_check_accepts_a_correct_loss_and_names_bugs():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    check_value_and_grad(_good_loss, _reference_loss, logits, labels, what="loss")
    with pytest.raises(CheckFailure, match="gradient .* is wrong"):
        check_value_and_grad(
            lambda z, y: (_good_loss(z, y)[0], _good_loss(z, y)[1] * len(y)),
            _reference_loss, logits, labels, what="loss",
        )
    with pytest.raises(CheckFailure, match="single number"):
        check_value_and_grad(
            lambda z, y: (np.full(len(y), _good_loss(z, y)[0]), _good_loss(z, y)[1]),
            _reference_loss, logits, labels, what="loss",
        )
    with pytest.raises(CheckFailure, match="pair"):
        check_value_and_grad(lambda z, y: _good_loss(z, y)[0], _reference_loss, logits, labels,
                             what="loss")
