"""Reference automatic differentiation package for the course (numpy, float64).

Modules, one job each: `numerical` (finite differences), `forward` (forward mode), `reverse`
(reverse mode on scalars), `tensor` (reverse mode on arrays), `nn` (layers, losses, training).
It stands alone: numpy only, nothing from `coursekit` (the course's data sets and plots live in
`coursekit.datasets` and `coursekit.plots`).
"""

from . import forward, numerical, reverse, tensor
from .forward import ForwardValue
from .reverse import AutogradValue
from .tensor import Tensor

__all__ = ["AutogradValue", "ForwardValue", "Tensor", "forward", "numerical", "reverse", "tensor"]
