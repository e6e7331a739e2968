"""Scalar reverse mode: ns per op of a ~100k-op scalar MLP, forward and backward separately,
`autodiff.reverse.AutogradValue` against a micrograd-style baseline, garbage collector on."""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from autodiff.reverse import AutogradValue


class ClosureValue:
    """Baseline in the style of micrograd: each node stores a closure that sends its gradient to
    its parents (so every node is in a reference cycle), backward() is a recursive topological
    sort and accumulates into .grad."""

    def __init__(self, data: float, parents: tuple = ()) -> None:
        self.data = data
        self.grad = 0.0
        self.parents = set(parents)
        self.send_grad: Callable[[], None] = lambda: None

    def __add__(self, other: Any) -> ClosureValue:
        other = other if isinstance(other, ClosureValue) else ClosureValue(other)
        out = ClosureValue(self.data + other.data, (self, other))

        def send_grad() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out.send_grad = send_grad
        return out

    def __mul__(self, other: Any) -> ClosureValue:
        other = other if isinstance(other, ClosureValue) else ClosureValue(other)
        out = ClosureValue(self.data * other.data, (self, other))

        def send_grad() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out.send_grad = send_grad
        return out

    def tanh(self) -> ClosureValue:
        t = math.tanh(self.data)
        out = ClosureValue(t, (self,))

        def send_grad() -> None:
            self.grad += (1.0 - t * t) * out.grad

        out.send_grad = send_grad
        return out

    def backward(self) -> None:
        order: list[ClosureValue] = []
        seen: set[int] = set()

        def visit(node: ClosureValue) -> None:
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node.parents:
                    visit(parent)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node.send_grad()


def scalar_mlp(node: type, x: list[float], weights: list[list[list[float]]]) -> Any:
    """Forward pass of a tanh MLP on one input, all in scalar nodes; returns sum of outputs."""
    activations = [node(v) for v in x]
    for layer in weights:
        outputs = []
        for row in layer:
            total = activations[0] * node(row[0])
            for a, w in zip(activations[1:], row[1:]):
                total = total + a * node(w)
            outputs.append(total.tanh())
        activations = outputs
    loss = activations[0]
    for a in activations[1:]:
        loss = loss + a
    return loss


def count_ops(sizes: list[int]) -> int:
    """Ops (mul, add, tanh) in one forward pass; the leaves (inputs, weights) are not ops."""
    ops = sum(n_out * (2 * n_in - 1) + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    return ops + sizes[-1] - 1


def run(rounds: int = 5) -> list[dict[str, Any]]:
    sizes = [32, 192, 224, 8]
    rng = random.Random(0)
    weights = [[[rng.gauss(0, 1 / math.sqrt(n_in)) for _ in range(n_in)] for _ in range(n_out)]
               for n_in, n_out in zip(sizes, sizes[1:])]
    x = [rng.gauss(0, 1) for _ in range(sizes[0])]
    ops = count_ops(sizes)
    engines = {"autodiff.reverse": AutogradValue, "micrograd-style baseline": ClosureValue}
    assert gc.isenabled(), "measure with the garbage collector on, as a user has it"
    times: dict[str, dict[str, list[float]]] = {n: {"forward": [], "backward": []}
                                                for n in engines}
    check = {}
    for _ in range(rounds):
        for name, node in engines.items():
            start = time.perf_counter()
            loss = scalar_mlp(node, x, weights)
            middle = time.perf_counter()
            loss.backward()
            end = time.perf_counter()
            times[name]["forward"].append(middle - start)
            times[name]["backward"].append(end - middle)
            check[name] = loss
            del loss
    values = [float(getattr(v, "value", getattr(v, "data", None))) for v in check.values()]
    assert np.allclose(values, values[0], rtol=1e-12), values
    return [{"engine": name, "ops": ops,
             "forward_ns_per_op": 1e9 * float(np.median(t["forward"])) / ops,
             "backward_ns_per_op": 1e9 * float(np.median(t["backward"])) / ops}
            for name, t in times.items()]


if __name__ == "__main__":
    for row in run():
        print(row)
