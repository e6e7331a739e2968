"""Reference automatic differentiation package for the course (numpy, float64).

Modules, one job each: `numerical` (finite differences), `forward` (forward mode), `reverse`
(reverse mode on scalars), `tensor` (reverse mode on arrays), `nn` (layers, losses, training),
`data` (toy and real data sets), `viz` (plots).
"""

from . import forward, numerical, reverse
from .forward import ForwardValue
from .reverse import AutogradValue

__all__ = ["AutogradValue", "ForwardValue", "forward", "numerical", "reverse"]
