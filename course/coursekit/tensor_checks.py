"""Checks for notebook 05's array engine as a whole (its ops are checked by ``check_vjp``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import array_hint, as_float_array, check_close
from .core import (
    Probe,
    is_float_array,
    judgement,
    observe,
    probe,
)


@judgement
def check_bias_gradient(tensor: type) -> None:
    """``(x + b).backward()`` for ``x`` of shape (5, 3) and a bias ``b`` of shape (3,).

    ``backward`` seeds the output's gradient with ones, so each entry of ``b.grad`` is the sum
    of a column of ones: 5. A gradient that was not reduced back to ``b``'s shape, or that
    was reduced over the wrong axis, shows here.
    """
    where = "x of shape (5, 3), b of shape (3,)"
    what = "b.grad after (x + b).backward()"

    got = observe(f"bias gradient with {where}",
                  Probe(bias_gradient, tensor=tensor, what=what, where=where),
                  "(x + b).backward()", where, array_hint(True))
    check_close(got, np.full(3, 5.0), what, where,
                "sum the upstream gradient over the broadcast axis (axis 0 here)")


@probe(returns=is_float_array)
def bias_gradient(tensor: type, what: str, where: str) -> Any:
    """``b.grad`` after ``(x + b).backward()``, x ones of shape (5, 3), b = [1, 2, 3]."""
    x, b = tensor(np.ones((5, 3))), tensor(np.array([1.0, 2.0, 3.0]))
    (x + b).backward()
    return as_float_array(b.grad, what, where)
