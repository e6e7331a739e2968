"""Correct alternatives and typical bugs for the exercises of 05-mlp-backprop.

Each source replaces the answer cell (the whole class or function) in a kernel where the master
notebook has run; the exercise's graded test cell must pass for "correct" and fail for "bugs".
"""


def _op(name: str, func: str, vjp_args: str, body: str, extra: str = "") -> str:
    lines = body.strip("\n").splitlines()
    indented = "\n".join("        " + line if line else "" for line in lines)
    return (
        f"class {name}(Tensor):\n"
        f"{extra}"
        f"    def func(self, {vjp_args}):\n"
        f"        return {func}\n\n"
        f"    def vjp(self, g, {vjp_args}):\n"
        f"{indented}\n"
    )


def matmul(body: str) -> str:
    return _op("_matmul", "X @ W", "X, W", body)


def add(body: str) -> str:
    return _op("_add", "a + b", "a, b", body)


def sum_(body: str) -> str:
    return _op("_sum", "np.sum(x, axis=self.axis)", "x", body, extra="    axis = None\n\n")


def relu(body: str) -> str:
    return _op("_relu", "np.maximum(x, 0.0)", "x", body)


def loss(body: str) -> str:
    lines = body.strip("\n").splitlines()
    return "def softmax_cross_entropy(logits, labels):\n" + "\n".join(
        "    " + line if line else "" for line in lines
    ) + "\n"


STABLE_LOSS = """
labels = np.asarray(labels)
rows = np.arange(len(labels))
shifted = logits - logits.max(axis=1, keepdims=True)
probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[rows, labels])
"""

EXERCISES = {
    "_matmul": {
        "correct": {
            "transposes of transposes": matmul("return (W @ g.T).T, (g.T @ X).T"),
            "np.dot and a list": matmul("return [np.dot(g, W.T), np.dot(X.T, g)]"),
            "einsum": matmul(
                "dX = np.einsum('nm,dm->nd', g, W)\n"
                "dW = np.einsum('nd,nm->dm', X, g)\n"
                "return dX, dW"
            ),
        },
        "bugs": {
            "no transposes": matmul("return g @ W, X @ g"),
            "swapped inputs": matmul("return X.T @ g, g @ W.T"),
            "forgot the upstream gradient": matmul(
                "return np.ones_like(g) @ W.T, X.T @ np.ones_like(g)"
            ),
            "sign flipped": matmul("return -(g @ W.T), -(X.T @ g)"),
            "transposed weight gradient": matmul("return g @ W.T, (X.T @ g).T"),
            "transposed input gradient (square case)": matmul(
                "dX = g @ W.T\nreturn (dX.T if dX.shape[0] == dX.shape[1] else dX), X.T @ g"
            ),
            "only X's gradient": matmul("return (g @ W.T,)"),
        },
    },
    "_add": {
        "correct": {
            "loops over axes": add(
                "def reduce_to(shape):\n"
                "    grad = g\n"
                "    while grad.ndim > len(shape):\n"
                "        grad = grad.sum(axis=0)\n"
                "    for axis, size in enumerate(shape):\n"
                "        if size == 1:\n"
                "            grad = grad.sum(axis=axis, keepdims=True)\n"
                "    return grad\n"
                "return reduce_to(np.shape(a)), reduce_to(np.shape(b))"
            ),
            "one sum then reshape": add(
                "def reduce_to(shape):\n"
                "    lead = g.ndim - len(shape)\n"
                "    axes = tuple(range(lead)) + tuple(\n"
                "        lead + i for i, n in enumerate(shape)\n"
                "        if n == 1 and g.shape[lead + i] != 1)\n"
                "    return np.sum(g, axis=axes).reshape(shape)\n"
                "return [reduce_to(np.shape(a)), reduce_to(np.shape(b))]"
            ),
            "sum of a broadcast": add(
                "def reduce_to(x):\n"
                "    shape = np.shape(x)\n"
                "    out = np.zeros(shape)\n"
                "    np.add.at(out.reshape(-1), np.broadcast_to(\n"
                "        np.arange(out.size).reshape(shape), g.shape).ravel(), g.ravel())\n"
                "    return out\n"
                "return reduce_to(a), reduce_to(b)"
            ),
        },
        "bugs": {
            "no reduction": add("return g, g"),
            "only the leading axes": add(
                "def reduce_to(shape):\n"
                "    return np.sum(g, axis=tuple(range(g.ndim - len(shape))))\n"
                "return reduce_to(np.shape(a)), reduce_to(np.shape(b))"
            ),
            "size-1 axes without keepdims": add(
                "def reduce_to(shape):\n"
                "    grad = np.sum(g, axis=tuple(range(g.ndim - len(shape))))\n"
                "    axes = tuple(i for i, n in enumerate(shape) if n == 1)\n"
                "    return np.sum(grad, axis=axes).reshape(-1) if axes else grad\n"
                "return reduce_to(np.shape(a)), reduce_to(np.shape(b))"
            ),
            "mean instead of sum": add(
                "def reduce_to(shape):\n"
                "    grad = np.mean(g, axis=tuple(range(g.ndim - len(shape))))\n"
                "    axes = tuple(i for i, n in enumerate(shape) if n == 1)\n"
                "    return np.mean(grad, axis=axes, keepdims=True)\n"
                "return reduce_to(np.shape(a)), reduce_to(np.shape(b))"
            ),
            "always sums axis 0": add(
                "def reduce_to(shape):\n"
                "    return g if np.shape(g) == shape else g.sum(axis=0)\n"
                "return reduce_to(np.shape(a)), reduce_to(np.shape(b))"
            ),
            "gradient of the broadcast input set to ones": add(
                "def reduce_to(shape):\n"
                "    return g if np.shape(g) == shape else np.ones(shape)\n"
                "return reduce_to(np.shape(a)), reduce_to(np.shape(b))"
            ),
        },
    },
    "_sum": {
        "correct": {
            "ones times g": sum_(
                "if self.axis is None:\n"
                "    return (np.ones_like(x) * g,)\n"
                "return (np.ones_like(x) * np.expand_dims(g, self.axis),)"
            ),
            "repeat along the axis": sum_(
                "if self.axis is None:\n"
                "    return [np.full(np.shape(x), float(g))]\n"
                "return [np.repeat(np.expand_dims(g, self.axis), np.shape(x)[self.axis],"
                " axis=self.axis)]"
            ),
        },
        "bugs": {
            "returns g unchanged": sum_("return (g,)"),
            "forgets the upstream gradient": sum_("return (np.ones_like(x),)"),
            "broadcast without putting the axis back": sum_(
                "return (np.broadcast_to(g, np.shape(x)).copy(),)"
            ),
            "divides by the count (mean)": sum_(
                "n = np.size(x) if self.axis is None else np.shape(x)[self.axis]\n"
                "g = g if self.axis is None else np.expand_dims(g, self.axis)\n"
                "return (np.broadcast_to(g, np.shape(x)) / n,)"
            ),
            "axis put back in front": sum_(
                "g = g if self.axis is None else np.expand_dims(g, 0)\n"
                "return (np.broadcast_to(g, np.shape(x)).copy(),)"
            ),
        },
    },
    "_relu": {
        "correct": {
            "np.where": relu("return (np.where(x > 0, g, 0.0),)"),
            ">= (same away from 0)": relu("return [g * (x >= 0)]"),
            "heaviside": relu("return (g * np.heaviside(x, 0.0),)"),
        },
        "bugs": {
            "forgets g": relu("return ((x > 0) * 1.0,)"),
            "mask inverted": relu("return (g * (x < 0),)"),
            "times x instead of the mask": relu("return (g * np.maximum(x, 0),)"),
            "passes g everywhere": relu("return (g,)"),
            "python if on arrays": relu("return (g if x > 0 else 0 * g,)"),
        },
    },
    "softmax_cross_entropy": {
        "correct": {
            "log-sum-exp, probabilities": loss(
                STABLE_LOSS
                + "dlogits = probs.copy()\n"
                "dlogits[rows, labels] -= 1\n"
                "return loss, dlogits / len(labels)"
            ),
            "one-hot matrix": loss(
                "labels = np.asarray(labels)\n"
                "n, c = logits.shape\n"
                "onehot = np.eye(c)[labels]\n"
                "m = np.max(logits, axis=1, keepdims=True)\n"
                "lse = m + np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))\n"
                "loss = float(np.sum(onehot * (lse - logits)) / n)\n"
                "return loss, (np.exp(logits - lse) - onehot) / n"
            ),
        },
        "bugs": {
            "naive, overflows": loss(
                "labels = np.asarray(labels)\n"
                "rows = np.arange(len(labels))\n"
                "probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)\n"
                "loss = -np.log(probs[rows, labels]).mean()\n"
                "probs[rows, labels] -= 1\n"
                "return loss, probs / len(labels)"
            ),
            "sum instead of mean": loss(
                STABLE_LOSS
                + "dlogits = probs.copy()\n"
                "dlogits[rows, labels] -= 1\n"
                "return loss * len(labels), dlogits"
            ),
            "gradient not divided by N": loss(
                STABLE_LOSS
                + "dlogits = probs.copy()\n"
                "dlogits[rows, labels] -= 1\n"
                "return loss, dlogits"
            ),
            "one-hot not subtracted": loss(STABLE_LOSS + "return loss, probs / len(labels)"),
            # stable for a shift of every logit, not for rows far apart: the visible test
            # shows it (logits [[0, 1000], [3, 3]]), as the hidden one does
            "subtracts the global maximum": loss(
                STABLE_LOSS.replace("logits.max(axis=1, keepdims=True)", "logits.max()")
                + "dlogits = probs.copy()\n"
                "dlogits[rows, labels] -= 1\n"
                "return loss, dlogits / len(labels)"
            ),
            "sign flipped": loss(
                STABLE_LOSS
                + "dlogits = probs.copy()\n"
                "dlogits[rows, labels] -= 1\n"
                "return loss, -dlogits / len(labels)"
            ),
            "per-example losses": loss(
                STABLE_LOSS
                + "dlogits = probs.copy()\n"
                "dlogits[rows, labels] -= 1\n"
                "return np.log(np.exp(shifted).sum(axis=1)) - shifted[rows, labels], "
                "dlogits / len(labels)"
            ),
            "modifies the logits in place": loss(
                "labels = np.asarray(labels)\n"
                "rows = np.arange(len(labels))\n"
                "logits -= logits.max(axis=1, keepdims=True)\n"
                "lse = np.log(np.exp(logits).sum(axis=1))\n"
                "loss = np.mean(lse - logits[rows, labels])\n"
                "probs = np.exp(logits - lse[:, None])\n"
                "probs[rows, labels] -= 1\n"
                "return loss, probs / len(labels)"
            ),
        },
    },
}
