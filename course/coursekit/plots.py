"""Matplotlib helpers for the course: computational graphs, decision boundaries, loss curves
and finite-difference error against step size. They draw; they compute no derivatives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _parents_of(node: Any, attributes: Sequence[str]) -> list[Any]:
    for name in attributes:
        parents = getattr(node, name, None)
        if parents is not None:
            return list(parents)
    return []


def _label_of(node: Any, value_attributes: Sequence[str]) -> str:
    name = type(node).__name__
    for attribute in value_attributes:
        if hasattr(node, attribute):
            value = np.asarray(getattr(node, attribute))
            text = f"{float(value):.3g}" if value.size == 1 else f"shape {value.shape}"
            return f"{name}\n{text}"
    return f"{name}\n{float(node):.3g}" if isinstance(node, (int, float)) else name


def draw_graph(output: Any, ax: Any = None,
               parent_attributes: Sequence[str] = ("parents", "_prev", "children"),
               value_attributes: Sequence[str] = ("value", "data"),
               node_attribute: str | None = None) -> Any:
    """Draw the computational graph that ends at `output`, inputs on the left.

    A node's inputs are read from the first attribute in `parent_attributes` it has (duck
    typing, so a student's own node class can be drawn); inputs that are plain numbers are drawn
    as constants. Labels show the class name and the value (first of `value_attributes`), and
    `node_attribute` (e.g. "grad") when given.
    """
    ax = _axes(ax)
    depth: dict[int, int] = {}
    nodes: dict[int, Any] = {}
    edges: list[tuple[int, int]] = []
    stack = [output]
    nodes[id(output)] = output
    while stack:  # collect nodes and edges without recursion
        node = stack.pop()
        for parent in _parents_of(node, parent_attributes):
            edges.append((id(parent), id(node)))
            if id(parent) not in nodes:
                nodes[id(parent)] = parent
                stack.append(parent)
    # depth = longest path from the output, so every edge points right
    depth[id(output)] = 0
    changed = True
    while changed:
        changed = False
        for parent, child in edges:
            if depth.get(child) is not None and depth.get(parent, -1) < depth[child] + 1:
                depth[parent] = depth[child] + 1
                changed = True
    max_depth = max(depth.values())
    columns: dict[int, list[int]] = {}
    for key, d in depth.items():
        columns.setdefault(max_depth - d, []).append(key)
    position = {key: (x, i - (len(keys) - 1) / 2)
                for x, keys in columns.items() for i, key in enumerate(keys)}
    for parent, child in edges:
        (x0, y0), (x1, y1) = position[parent], position[child]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": "0.5", "shrinkA": 18,
                                "shrinkB": 18})
    for key, (x, y) in position.items():
        node = nodes[key]
        label = _label_of(node, value_attributes)
        if node_attribute is not None and hasattr(node, node_attribute):
            extra = np.asarray(getattr(node, node_attribute))
            label += f"\n{node_attribute}={float(extra):.3g}" if extra.size == 1 else ""
        constant = not _parents_of(node, parent_attributes) and not hasattr(node, "__dict__") \
            and isinstance(node, (int, float, np.ndarray))
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "fc": "0.9" if constant else "lightyellow",
                      "ec": "0.4"})
    ax.set_xlim(-0.7, max_depth + 0.7)
    ax.set_ylim(min(p[1] for p in position.values()) - 0.7,
                max(p[1] for p in position.values()) + 0.7)
    ax.set_axis_off()
    ax.set_title("computational graph (inputs on the left)")
    return ax


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                           y: np.ndarray, ax: Any = None, resolution: int = 200) -> Any:
    """Colour the plane by predict(points) (class labels) and scatter the data X (n, 2), y (n,)."""
    ax = _axes(ax)
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    labels = np.asarray(predict(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)
    ax.contourf(gx, gy, labels, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=15)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title("decision boundary")
    return ax


def plot_loss_curve(history: Sequence[float], ax: Any = None, log_scale: bool = True) -> Any:
    """The training loss against the step number."""
    ax = _axes(ax)
    ax.plot(np.arange(len(history)), history)
    if log_scale and min(history) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("training loss")
    return ax


def plot_step_size_error(steps: Sequence[float], errors: Mapping[str, Sequence[float]],
                         ax: Any = None) -> Any:
    """Log-log plot of the error of each finite-difference method against the step size h.

    `errors` maps a label (e.g. "forward difference") to |numeric - exact| at each step.
    """
    ax = _axes(ax)
    for label, values in errors.items():
        ax.loglog(steps, np.maximum(np.asarray(values, dtype=np.float64), 1e-17), "o-",
                  label=label, markersize=3)
    ax.set_xlabel("step size h")
    ax.set_ylabel("absolute error")
    ax.set_title("finite-difference error against step size")
    ax.legend()
    return ax
