"""One forward + backward of a 2-layer ReLU MLP with softmax cross-entropy, per engine:
hand-written numpy backprop (the floor), autodiff.tensor, HIPS autograd, PyTorch if importable."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
from autodiff.tensor import Tensor, softmax_cross_entropy

from .timing import take_turns

SIZES = [(64, 2, 32, 2), (256, 784, 256, 10), (1024, 784, 1024, 10)]


def problem(batch: int, n_in: int, hidden: int, n_out: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {"x": rng.normal(size=(batch, n_in)), "y": rng.integers(0, n_out, batch),
            "params": [rng.normal(0, np.sqrt(2 / n_in), (n_in, hidden)), np.zeros(hidden),
                       rng.normal(0, np.sqrt(2 / hidden), (hidden, n_out)), np.zeros(n_out)]}


def hand_written(p: dict[str, Any]) -> Callable[[], tuple[float, list[np.ndarray]]]:
    x, y = p["x"], p["y"]
    w1, b1, w2, b2 = p["params"]
    rows = np.arange(len(y))

    def step() -> tuple[float, list[np.ndarray]]:
        z1 = x @ w1 + b1
        h = np.maximum(z1, 0.0)
        s = h @ w2 + b2
        shifted = s - s.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        loss = (np.log(sums[:, 0]) - shifted[rows, y]).sum() / len(y)
        ds = exps / sums
        ds[rows, y] -= 1.0
        ds /= len(y)
        dz1 = (ds @ w2.T) * (z1 > 0.0)
        return loss, [x.T @ dz1, dz1.sum(axis=0), h.T @ ds, ds.sum(axis=0)]

    return step


def autodiff_tensor(p: dict[str, Any]) -> Callable[[], tuple[float, list[np.ndarray]]]:
    x, y = Tensor(p["x"]), p["y"]
    w1, b1, w2, b2 = params = [Tensor(v, requires_grad=True) for v in p["params"]]

    def step() -> tuple[float, list[np.ndarray]]:
        loss = softmax_cross_entropy((x @ w1 + b1).relu() @ w2 + b2, y)
        loss.backward()
        return float(loss.data), [t.grad for t in params]

    return step


def hips_autograd(p: dict[str, Any]) -> Callable[[], tuple[float, list[np.ndarray]]]:
    import autograd
    import autograd.numpy as anp

    x, y = p["x"], p["y"]
    rows = np.arange(len(y))

    def loss_fn(params: list[Any]) -> Any:
        w1, b1, w2, b2 = params
        s = anp.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        shifted = s - anp.max(s, axis=1, keepdims=True)
        return anp.mean(anp.log(anp.sum(anp.exp(shifted), axis=1)) - shifted[rows, y])

    value_and_grad = autograd.value_and_grad(loss_fn)

    def step() -> tuple[float, list[np.ndarray]]:
        loss, grads = value_and_grad(p["params"])
        return float(loss), list(grads)

    return step


def pytorch(p: dict[str, Any]) -> Callable[[], tuple[float, list[np.ndarray]]]:
    import torch

    x, y = torch.from_numpy(p["x"]), torch.from_numpy(p["y"])
    params = [torch.tensor(v, requires_grad=True) for v in p["params"]]

    def step() -> tuple[float, list[np.ndarray]]:
        for t in params:
            t.grad = None
        w1, b1, w2, b2 = params
        loss = torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, y)
        loss.backward()
        return float(loss), [t.grad.numpy() for t in params]

    return step


def engines() -> dict[str, Callable[[dict[str, Any]], Callable[[], Any]]]:
    found = {"hand-written numpy": hand_written, "autodiff.tensor": autodiff_tensor,
             "HIPS autograd": hips_autograd}
    if importlib.util.find_spec("torch") is not None:  # only if already installed
        found["PyTorch (CPU)"] = pytorch
    return found


def run(time_budget_rounds: dict[int, int] | None = None) -> list[dict[str, Any]]:
    rows = []
    for sizes in SIZES:
        p = problem(*sizes)
        steps = {name: make(p) for name, make in engines().items()}
        reference_loss, reference_grads = steps["hand-written numpy"]()
        for name, step in steps.items():  # every engine computes the same thing
            loss, grads = step()
            assert abs(loss - reference_loss) <= 1e-10 * abs(reference_loss), name
            for g, r in zip(grads, reference_grads):
                np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-12, err_msg=name)
        small = sizes[0] <= 64
        seconds = take_turns(steps, rounds=41 if small else 9 if sizes[0] <= 256 else 5,
                             calls_per_round=200 if small else 1)
        floor = seconds["hand-written numpy"]
        for name, s in seconds.items():
            rows.append({"sizes": sizes, "engine": name, "ms": 1e3 * s, "ratio": s / floor})
    return rows
