"""Python operators wired to op classes, once, for every engine.

`Operators` is a mixin: `x + y` calls `ops["add"](x, y)`, where `ops` is the table of op
classes an engine registers with `wire`. ForwardValue, AutogradValue and Tensor all inherit
their `+ - * / ** @`, unary `-` and `.exp() .log() ...` from here.
"""

from __future__ import annotations

from typing import Any, ClassVar

OPERATOR_NAMES = (
    "add", "neg", "sub", "mul", "div", "pow", "matmul",
    "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu",
)


class Operators:
    """Operator overloading shared by every node type; `wire` fills `ops`."""

    __slots__ = ()
    # numpy defers to our reflected operators (array + node -> node.__radd__(array)).
    __array_ufunc__ = None
    ops: ClassVar[dict[str, type]] = {}

    def __add__(self, other: Any) -> Any:
        return self.ops["add"](self, other)

    def __radd__(self, other: Any) -> Any:
        return self.ops["add"](other, self)

    def __neg__(self) -> Any:
        return self.ops["neg"](self)

    def __sub__(self, other: Any) -> Any:
        return self.ops["sub"](self, other)

    def __rsub__(self, other: Any) -> Any:
        return self.ops["sub"](other, self)

    def __mul__(self, other: Any) -> Any:
        return self.ops["mul"](self, other)

    def __rmul__(self, other: Any) -> Any:
        return self.ops["mul"](other, self)

    def __truediv__(self, other: Any) -> Any:
        return self.ops["div"](self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self.ops["div"](other, self)

    def __pow__(self, other: Any) -> Any:
        return self.ops["pow"](self, other)

    def __rpow__(self, other: Any) -> Any:
        return self.ops["pow"](other, self)

    def __matmul__(self, other: Any) -> Any:
        return self.ops["matmul"](self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return self.ops["matmul"](other, self)

    def exp(self) -> Any:
        return self.ops["exp"](self)

    def log(self) -> Any:
        return self.ops["log"](self)

    def sin(self) -> Any:
        return self.ops["sin"](self)

    def cos(self) -> Any:
        return self.ops["cos"](self)

    def tanh(self) -> Any:
        return self.ops["tanh"](self)

    def sigmoid(self) -> Any:
        return self.ops["sigmoid"](self)

    def relu(self) -> Any:
        return self.ops["relu"](self)


def wire(node_class: type[Operators], **op_classes: type) -> None:
    """Register an engine's op classes (keyword = operator name) on its node class."""
    unknown = set(op_classes) - set(OPERATOR_NAMES)
    if unknown:
        raise ValueError(f"wire: unknown operator names {sorted(unknown)}; "
                         f"expected some of {OPERATOR_NAMES}")
    node_class.ops = dict(op_classes)
