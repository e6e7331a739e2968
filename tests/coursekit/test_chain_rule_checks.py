"""Notebook 02's check: hand-written backward passes against finite differences."""

import numpy as np
import pytest
from coursekit.chain_rule_checks import check_backward, random_point
from coursekit.checks import CheckFailure


def add_mul(x, y, z):
    return (x + y) * z


def test_a_correct_gradient_passes_at_the_point_and_at_random_points():
    check_backward(lambda x, y, z: (z, z, x + y), add_mul, "xyz", "`g`", point=[-2, 5, -4],
                   ranges=[(-3, 3)] * 3, seeds=(1, 2, 3))


def test_an_answer_that_only_knows_the_worked_point_fails_at_random_points():
    check_backward(lambda x, y, z: (-4.0, -4.0, 3.0), add_mul, "xyz", "`g`", point=[-2, 5, -4])
    with pytest.raises(CheckFailure, match="random point, seed 1"):
        check_backward(lambda x, y, z: (-4.0, -4.0, 3.0), add_mul, "xyz", "`g`",
                       ranges=[(-3, 3)] * 3, seeds=(1,))


def test_random_points_keep_max_inputs_apart_and_are_reproducible():
    for seed in range(20):
        point = random_point(seed, [(-3, 3)] * 4, separate=[(2, 3)])
        assert abs(point[2] - point[3]) > 0.3
        assert point == random_point(seed, [(-3, 3)] * 4, separate=[(2, 3)])
        assert all(-3 <= p <= 3 for p in point)


def test_swapped_partials_are_named():
    with pytest.raises(CheckFailure, match="another input"):
        check_backward(lambda w, x: (2 * w * x, x**2), lambda w, x: w * x**2, "wx", "`g`",
                       point=[1.5, -0.5])


def test_ranges_are_required_for_random_points():
    with pytest.raises(ValueError):
        check_backward(lambda x: (np.cos(x),), np.sin, "x", "`g`", seeds=(1,))
