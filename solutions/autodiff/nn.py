"""Neural networks on `autodiff.tensor`: layers, losses, SGD with momentum, a training loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .tensor import Tensor, log_sigmoid, multiclass_hinge, softmax_cross_entropy

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "relu": Tensor.relu, "tanh": Tensor.tanh, "sigmoid": Tensor.sigmoid,
}


class Linear:
    """y = x @ W + b with x (n, fan_in), W (fan_in, fan_out), b (fan_out,).

    W is drawn from N(0, 2 / fan_in) (He initialisation, suited to ReLU), b starts at 0.
    """

    def __init__(self, fan_in: int, fan_out: int, rng: np.random.Generator | None = None) -> None:
        rng = np.random.default_rng(0) if rng is None else rng
        self.weight = Tensor(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)),
                             requires_grad=True)
        self.bias = Tensor(np.zeros(fan_out), requires_grad=True)

    def __call__(self, x: Tensor) -> Tensor:
        return x @ self.weight + self.bias

    def parameters(self) -> list[Tensor]:
        return [self.weight, self.bias]


class MLP:
    """Linear layers of the given sizes with `activation` between them (none after the last).

    sizes = [inputs, hidden..., outputs]; activation is "relu", "tanh", "sigmoid" or a function
    Tensor -> Tensor. The output is raw scores (logits).
    """

    def __init__(self, sizes: Sequence[int], activation: str | Callable[[Tensor], Tensor] = "relu",
                 seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.layers = [Linear(a, b, rng) for a, b in zip(sizes[:-1], sizes[1:])]
        self.activation = ACTIVATIONS[activation] if isinstance(activation, str) else activation

    def __call__(self, x: Any) -> Tensor:
        h = x if isinstance(x, Tensor) else Tensor(x)
        for layer in self.layers[:-1]:
            h = self.activation(layer(h))
        return self.layers[-1](h)

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def predict(self, x: Any) -> np.ndarray:
        """Class predictions: argmax of the scores (one output: score > 0)."""
        scores = self(x).data
        return (scores[:, 0] > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)


def mse_loss(predictions: Tensor, targets: Any) -> Tensor:
    """mean (prediction - target)^2."""
    diff = predictions - np.asarray(targets, dtype=np.float64).reshape(predictions.shape)
    return (diff * diff).mean()


def binary_nll(scores: Tensor, labels: Any) -> Tensor:
    """Binary negative log-likelihood, mean_i -log sigmoid((2 y_i - 1) s_i), y in {0, 1}."""
    signs = 2.0 * np.asarray(labels, dtype=np.float64).reshape(scores.shape) - 1.0
    return -log_sigmoid(scores * signs).mean()


def cross_entropy_loss(scores: Tensor, labels: Any) -> Tensor:
    """Softmax cross-entropy of scores (n, k) against integer labels (n,)."""
    return softmax_cross_entropy(scores, labels)


def svm_hinge_loss(scores: Tensor, labels: Any) -> Tensor:
    """Multiclass SVM hinge loss of scores (n, k) against integer labels (n,)."""
    return multiclass_hinge(scores, labels)


class SGD:
    """Gradient descent with momentum: v <- momentum v - lr grad; p <- p + v."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0) -> None:
        self.lr, self.momentum = lr, momentum
        self.velocity: dict[int, np.ndarray] = {}

    def step(self, parameters: Sequence[Tensor]) -> None:
        for p in parameters:
            if p.grad is None:
                continue
            v = self.velocity.get(id(p))
            v = -self.lr * p.grad if v is None else self.momentum * v - self.lr * p.grad
            self.velocity[id(p)] = v
            p.data = p.data + v


def accuracy(model: MLP, x: Any, labels: Any) -> float:
    """Fraction of points whose predicted class is the label."""
    return float(np.mean(model.predict(x) == np.asarray(labels)))


def train(model: MLP, loss_fn: Callable[[Tensor, Any], Tensor], x: Any, y: Any,
          optimizer: SGD | None = None, steps: int = 500, batch_size: int | None = None,
          seed: int = 0, progress: bool = True) -> list[float]:
    """Minimise loss_fn(model(x_batch), y_batch) with `optimizer` for `steps` steps.

    Full batch by default, else minibatches of `batch_size` drawn without replacement each
    epoch (seeded). Shows a tqdm progress bar unless progress=False. Returns the loss per step.
    """
    optimizer = SGD(lr=0.1, momentum=0.9) if optimizer is None else optimizer
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
    rng = np.random.default_rng(seed)
    parameters = model.parameters()
    order, position = rng.permutation(len(x)), 0
    history = []
    bar = tqdm(range(steps), disable=not progress, desc="training", leave=False)
    for _ in bar:
        if batch_size is None:
            xb, yb = x, y
        else:
            if position + batch_size > len(x):
                order, position = rng.permutation(len(x)), 0
            batch = order[position:position + batch_size]
            position += batch_size
            xb, yb = x[batch], y[batch]
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step(parameters)
        history.append(float(loss.data))
        if progress:
            bar.set_postfix(loss=f"{history[-1]:.4f}", refresh=False)
    return history
