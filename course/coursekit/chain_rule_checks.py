"""Checks for notebook 02: hand-written backward passes against finite differences.

Each exercise is a function ``backward_<name>(*inputs)`` returning one partial derivative per
input. :func:`check_backward` compares it with central differences of the kit's own forward
function (via :func:`coursekit.checks.check_gradient`): first at the worked point from the text,
then at seeded random points, so an answer that only reproduces the worked numbers fails.

Passing checks print nothing; a failure raises :class:`coursekit.checks.CheckFailure` naming the
input whose partial is wrong, the point, the expected and actual values, and a hint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from coursekit.checks import check_gradient


def random_point(
    seed: int,
    ranges: Sequence[tuple[float, float]],
    separate: Sequence[tuple[int, int]] = (),
    gap: float = 0.3,
) -> list[float]:
    """One float per input, input i uniform in ``ranges[i]``.

    For every pair ``(i, j)`` in ``separate`` the two values differ by more than ``gap`` (a max
    gate's inputs, kept away from the kink). All values are also pairwise distinct by 0.05, so
    swapped inputs show.
    """
    rng = np.random.default_rng(seed)
    while True:
        point = [float(rng.uniform(lo, hi)) for lo, hi in ranges]
        far = all(abs(point[i] - point[j]) > gap for i, j in separate)
        distinct = all(
            abs(a - b) > 0.05 for k, a in enumerate(point) for b in point[k + 1 :]
        )
        if far and distinct:
            return point


def check_backward(
    student: Callable[..., Sequence[float]],
    forward: Callable[..., float],
    names: Sequence[str],
    what: str,
    point: Sequence[float] | None = None,
    ranges: Sequence[tuple[float, float]] | None = None,
    seeds: Sequence[int] = (),
    separate: Sequence[tuple[int, int]] = (),
) -> None:
    """Check ``student(*inputs)`` against central differences of ``forward`` at ``point`` and
    at one random point (from ``ranges``) per seed."""
    if point is not None:
        check_gradient(student, forward, [float(p) for p in point], names, what)
    for seed in seeds:
        if ranges is None:
            raise ValueError("check_backward needs ranges to draw random points")
        random = random_point(seed, ranges, separate)
        check_gradient(student, forward, random, names, f"{what} (random point, seed {seed})")
