"""Small classification data sets, seeded and made with numpy alone.

Each toy generator returns (X, y): X float64 of shape (n, 2), y int labels of shape (n,).
`digits` reads the 8x8 handwritten digits that ship inside scikit-learn (no download).
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np


def moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles; label 0 on the upper, 1 on the lower one."""
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n0, dtype=int), np.ones(n - n0, dtype=int)])
    return _shuffled(X, y, rng)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles, radius 1 (label 0) and `factor` (label 1)."""
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    radius = np.concatenate([np.ones(n0), np.full(n - n0, factor)])
    X = radius[:, None] * np.column_stack([np.cos(t), np.sin(t)]) + rng.normal(0, noise, (n, 2))
    y = np.concatenate([np.zeros(n0, dtype=int), np.ones(n - n0, dtype=int)])
    return _shuffled(X, y, rng)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2,
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`classes` interleaved spiral arms with n // classes points each (labels 0..classes-1)."""
    rng = np.random.default_rng(seed)
    per_class = n // classes
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, per_class) + rng.normal(0, noise, per_class)
        xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(per_class, k))
    return _shuffled(np.vstack(xs), np.concatenate(ys), rng)


def xor(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners (+-1, +-1); label 1 where the signs differ."""
    rng = np.random.default_rng(seed)
    corners = rng.choice([-1.0, 1.0], size=(n, 2))
    X = corners + rng.normal(0.0, noise, (n, 2))
    y = (corners[:, 0] != corners[:, 1]).astype(int)
    return X, y


def _shuffled(X: np.ndarray, y: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order].astype(np.float64), y[order]


def _bundled_digits_file() -> Path:
    # The browser build of coursekit (tools/lite/build.py) carries the same table, so the
    # in-browser course needs no scikit-learn; everywhere else it is read from scikit-learn.
    shipped = Path(__file__).parent / "data" / "digits.csv.gz"
    if shipped.exists():
        return shipped
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("digits() reads the digits file bundled with scikit-learn, which is "
                          "not installed: pip install scikit-learn")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"


def digits(test_fraction: float = 0.25, seed: int = 0
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 1797 8x8 handwritten digits bundled with scikit-learn, split at random (seeded).

    Returns X_train (n, 64), y_train (n,), X_test (m, 64), y_test (m,); pixels scaled to [0, 1].
    """
    with gzip.open(_bundled_digits_file(), "rt") as handle:
        table = np.loadtxt(handle, delimiter=",")
    X, y = table[:, :-1] / 16.0, table[:, -1].astype(int)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]
