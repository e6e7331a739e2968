"""Variants for 03-forward-mode: correct alternatives that must pass, typical bugs that must fail.

Each source replaces the exercise's answer cell in a kernel where the master has run; then the
exercise's graded test cell (visible and hidden checks) runs.
"""


def _op(name: str, args: str, func: str, grads: str, prelude: str = "") -> str:
    """The source of an op cell: `class name(ForwardValue)` with the given bodies."""
    func_body = "\n".join("        " + line for line in func.split("\n"))
    grads_body = "\n".join("        " + line for line in grads.split("\n"))
    return (
        f"{prelude}class {name}(ForwardValue):\n"
        f"    def func(self, {args}):\n{func_body}\n\n"
        f"    def grads(self, {args}):\n{grads_body}\n"
    )


def _ops(name: str, args: str, correct: dict, bugs: dict) -> dict:
    def build(table):
        return {
            label: _op(name, args, *spec) if isinstance(spec, tuple) else spec
            for label, spec in table.items()
        }

    return {"correct": build(correct), "bugs": build(bugs)}


_FORWARD_PASS_HEAD = '''
def forward_pass(self, args):
    self.forward_grads = {}
    local_grads = self.grads(*self.parent_values)
'''
_FORWARD_PASS_TAIL = '''
    return self.func(*self.parent_values)


ForwardValue.forward_pass = forward_pass
'''


def _forward_pass(body: str, head: str = _FORWARD_PASS_HEAD) -> str:
    return head + body.strip("\n") + _FORWARD_PASS_TAIL


FORWARD_PASS = {
    "correct": {
        "membership test and +=": _forward_pass('''
    for parent, local in zip(args, local_grads):
        if isinstance(parent, ForwardValue):
            for variable, tangent in parent.forward_grads.items():
                if variable in self.forward_grads:
                    self.forward_grads[variable] += local * tangent
                else:
                    self.forward_grads[variable] = local * tangent
'''),
        "defaultdict, indices": _forward_pass('''
    from collections import defaultdict

    total = defaultdict(float)
    for i in range(len(args)):
        if isinstance(args[i], ForwardValue):
            for variable in args[i].forward_grads:
                total[variable] = total[variable] + args[i].forward_grads[variable] * local_grads[i]
    self.forward_grads = dict(total)
'''),
        "local grads computed inside, tangent first": '''
def forward_pass(self, args):
    self.forward_grads = {}
    partials = list(self.grads(*self.parent_values))
    parents = [(p, d) for p, d in zip(args, partials) if isinstance(p, ForwardValue)]
    for parent, d in parents:
        for variable, tangent in parent.forward_grads.items():
            self.forward_grads[variable] = tangent * d + self.forward_grads.get(variable, 0)
    return self.func(*self.parent_values)


ForwardValue.forward_pass = forward_pass
''',
    },
    "bugs": {
        "overwrites instead of adding (reuse breaks)": _forward_pass('''
    for parent, local in zip(args, local_grads):
        if isinstance(parent, ForwardValue):
            for variable, tangent in parent.forward_grads.items():
                self.forward_grads[variable] = local * tangent
'''),
        "adds local and tangent": _forward_pass('''
    for parent, local in zip(args, local_grads):
        if isinstance(parent, ForwardValue):
            for variable, tangent in parent.forward_grads.items():
                previous = self.forward_grads.get(variable, 0.0)
                self.forward_grads[variable] = previous + local + tangent
'''),
        "forgets the local derivative": _forward_pass('''
    for parent, local in zip(args, local_grads):
        if isinstance(parent, ForwardValue):
            for variable, tangent in parent.forward_grads.items():
                self.forward_grads[variable] = self.forward_grads.get(variable, 0.0) + tangent
'''),
        "forgets the parent's tangent": _forward_pass('''
    for parent, local in zip(args, local_grads):
        if isinstance(parent, ForwardValue):
            for variable in parent.forward_grads:
                self.forward_grads[variable] = self.forward_grads.get(variable, 0.0) + local
'''),
        "only the first parent": _forward_pass('''
    parent, local = args[0], local_grads[0]
    if isinstance(parent, ForwardValue):
        for variable, tangent in parent.forward_grads.items():
            self.forward_grads[variable] = self.forward_grads.get(variable, 0.0) + local * tangent
'''),
        "keys are the parents, not the variables": _forward_pass('''
    for parent, local in zip(args, local_grads):
        if isinstance(parent, ForwardValue):
            self.forward_grads[parent] = self.forward_grads.get(parent, 0.0) + local
'''),
        "tests the raw parent values (nothing propagates)": _forward_pass('''
    for parent, local in zip(self.parent_values, local_grads):
        if isinstance(parent, ForwardValue):
            for variable, tangent in parent.forward_grads.items():
                previous = self.forward_grads.get(variable, 0.0)
                self.forward_grads[variable] = previous + local * tangent
'''),
    },
}

_MATH = "import math\n\n\n"

_W_TANGENT_HEAD = (
    "def w_tangent(w):\n"
    "    x = 1.5\n"
    "    w_dot = 1.0\n"
)


def _w_tangent(*lines: str) -> str:
    return _W_TANGENT_HEAD + "".join(f"    {line}\n" for line in lines)


W_TANGENT = {
    "correct": {
        "one dot per line": _w_tangent(
            "a = x**2", "b = w * a", "b_dot = a * w_dot", "c = 1 / (1 + np.exp(-b))",
            "c_dot = c * (1 - c) * b_dot", "return -(c_dot / c)"),
        "sigmoid shortcut": _w_tangent(
            "b = w * x * x", "c = 1 / (1 + np.exp(-b))", "return (c - 1) * x * x * w_dot"),
    },
    "bugs": {
        "seeds x instead of w": _w_tangent(
            "a, a_dot = x**2, 2 * x", "b, b_dot = w * a, w * a_dot", "c = 1 / (1 + np.exp(-b))",
            "return -(c * (1 - c) * b_dot / c)"),
        "forgets the minus of L": _w_tangent(
            "a = x**2", "b = w * a", "c = 1 / (1 + np.exp(-b))", "return (1 - c) * a"),
        "product rule term for the constant": _w_tangent(
            "a = x**2", "b = w * a", "c = 1 / (1 + np.exp(-b))",
            "return -(1 - c) * (a + w * 2 * x)"),
        "stops at the sigmoid": _w_tangent(
            "a = x**2", "b = w * a", "c = 1 / (1 + np.exp(-b))", "return -c * (1 - c) * a"),
        "math.exp fails on arrays": _w_tangent(
            "import math", "c = 1 / (1 + math.exp(-w * x * x))", "return (c - 1) * x * x"),
    },
}

EXERCISES = {
    "w_tangent": W_TANGENT,
    "forward_pass": FORWARD_PASS,
    "_sub": _ops("_sub", "a, b", {
        "a + (-b), a list": ("return a + (-b)", "return [1.0, -1.0]"),
        "np.subtract, ints": ("return np.subtract(a, b)", "return 1, -1"),
    }, {
        "both partials +1": ("return a - b", "return 1.0, 1.0"),
        "signs swapped": ("return a - b", "return -1.0, 1.0"),
        "b - a": ("return b - a", "return 1.0, -1.0"),
        "one partial only": ("return a - b", "return (1.0,)"),
        "ignores a": ("return a - b", "return 0.0, -1.0"),
    }),
    "_mul": _ops("_mul", "a, b", {
        "np.multiply, a list": ("return np.multiply(a, b)", "return [b, a]"),
        "b * a, times 1.0": ("return b * a", "return b * 1.0, a * 1.0"),
    }, {
        "partials swapped": ("return a * b", "return a, b"),
        "same partial twice": ("return a * b", "return b, b"),
        "ones": ("return a * b", "return 1.0, 1.0"),
        "a + b": ("return a + b", "return b, a"),
        "wrong sign": ("return a * b", "return -b, -a"),
    }),
    "_div": _ops("_div", "a, b", {
        "np.divide, b*b": ("return np.divide(a, b)", "return 1 / b, -a / (b * b)"),
        "negative powers": ("return a * b**-1.0", "return b**-1.0, -a * b**-2.0"),
    }, {
        "sign of d/db": ("return a / b", "return 1 / b, a / b**2"),
        "partials swapped": ("return a / b", "return -a / b**2, 1 / b"),
        "d/db without a": ("return a / b", "return 1 / b, -1 / b**2"),
        "b / a": ("return b / a", "return 1 / b, -a / b**2"),
        "d/db = -a/b": ("return a / b", "return 1 / b, -a / b"),
    }),
    "_pow": _ops("_pow", "a, b", {
        "np.power, a**b / a": (
            "return np.power(a, b)", "return b * a**b / a, a**b * np.log(a)"),
        "exp of b log a": (
            "return np.exp(b * np.log(a))",
            "value = np.exp(b * np.log(a))\nreturn b * value / a, value * np.log(a)"),
    }, {
        "ignores the exponent": ("return a**b", "return b * a ** (b - 1), 0.0"),
        "power rule for both": ("return a**b", "return b * a ** (b - 1), b * a ** (b - 1)"),
        "missing factor b": ("return a**b", "return a ** (b - 1), a**b * np.log(a)"),
        "math.log fails on arrays": (
            "return a**b", "return b * a ** (b - 1), a**b * math.log(a)", _MATH),
        "b ** a": ("return b**a", "return b * a ** (b - 1), a**b * np.log(a)"),
        "log of the wrong input": ("return a**b", "return b * a ** (b - 1), a**b * np.log(b)"),
        "missing ln a": ("return a**b", "return b * a ** (b - 1), a**b"),
    }),
    "_exp": _ops("_exp", "a", {
        "a list": ("return np.exp(a)", "return [np.exp(a)]"),
        "np.e ** a": ("return np.e**a", "return (np.e**a,)"),
    }, {
        "math.exp fails on arrays": ("return math.exp(a)", "return (math.exp(a),)", _MATH),
        "power rule": ("return np.exp(a)", "return (a * np.exp(a - 1),)"),
        "exp(-a)": ("return np.exp(a)", "return (np.exp(-a),)"),
        "not a tuple": ("return np.exp(a)", "return np.exp(a)"),
        "derivative 1": ("return np.exp(a)", "return (1.0,)"),
    }),
    "_log": _ops("_log", "a", {
        "a ** -1": ("return np.log(a)", "return (a**-1.0,)"),
        "reciprocal, log2": ("return np.log2(a) * np.log(2.0)", "return [np.reciprocal(a)]"),
    }, {
        "returns log": ("return np.log(a)", "return (np.log(a),)"),
        "sign": ("return np.log(a)", "return (-1 / a,)"),
        "1 / a**2": ("return np.log(a)", "return (1 / a**2,)"),
        "log10": ("return np.log10(a)", "return (1 / a,)"),
        "math.log fails on arrays": ("return math.log(a)", "return (1 / a,)", _MATH),
    }),
    "_sin": _ops("_sin", "a", {
        "a list": ("return np.sin(a)", "return [np.cos(a)]"),
        "shifted": ("return np.cos(a - np.pi / 2)", "return (np.sin(a + np.pi / 2),)"),
    }, {
        "sign": ("return np.sin(a)", "return (-np.cos(a),)"),
        "returns sin": ("return np.sin(a)", "return (np.sin(a),)"),
        "math.sin fails on arrays": ("return math.sin(a)", "return (math.cos(a),)", _MATH),
        "cos for the value": ("return np.cos(a)", "return (np.cos(a),)"),
        "extra factor a": ("return np.sin(a)", "return (a * np.cos(a),)"),
    }),
    "_cos": _ops("_cos", "a", {
        "a list": ("return np.cos(a)", "return [-np.sin(a)]"),
        "shifted": ("return np.sin(a + np.pi / 2)", "return (np.cos(a + np.pi / 2),)"),
    }, {
        "sign": ("return np.cos(a)", "return (np.sin(a),)"),
        "returns -cos": ("return np.cos(a)", "return (-np.cos(a),)"),
        "math.cos fails on arrays": ("return math.cos(a)", "return (-math.sin(a),)", _MATH),
        "sin for the value": ("return np.sin(a)", "return (-np.sin(a),)"),
        "factor 2": ("return np.cos(a)", "return (2 * np.sin(-a),)"),
    }),
    "_tanh": _ops("_tanh", "a", {
        "1 / cosh²": ("return np.tanh(a)", "return (1 / np.cosh(a) ** 2,)"),
        "from exp": (
            "return (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)",
            "t = np.tanh(a)\nreturn [1 - t * t]"),
    }, {
        "1 - tanh": ("return np.tanh(a)", "return (1 - np.tanh(a),)"),
        "1 + tanh²": ("return np.tanh(a)", "return (1 + np.tanh(a) ** 2,)"),
        "math.tanh fails on arrays": (
            "return math.tanh(a)", "return (1 - math.tanh(a) ** 2,)", _MATH),
        "sign": ("return np.tanh(a)", "return (np.tanh(a) ** 2 - 1,)"),
        "1 / cosh": ("return np.tanh(a)", "return (1 / np.cosh(a),)"),
        # In forward mode grads runs inside forward_pass, before self.value exists.
        "own value": ("return np.tanh(a)", "t = self.value\nreturn (1 - t ** 2,)"),
    }),
    "_sigmoid": _ops("_sigmoid", "a", {
        "exp(a) / (1 + exp(a))": (
            "return np.exp(a) / (1 + np.exp(a))",
            "return (np.exp(-a) / (1 + np.exp(-a)) ** 2,)"),
        "from tanh": (
            "return 0.5 * (1 + np.tanh(a / 2))",
            "s = 0.5 * (1 + np.tanh(a / 2))\nreturn [s - s * s]"),
    }, {
        "returns sigma": ("return 1 / (1 + np.exp(-a))", "return (1 / (1 + np.exp(-a)),)"),
        "s (1 + s)": (
            "return 1 / (1 + np.exp(-a))", "s = 1 / (1 + np.exp(-a))\nreturn (s * (1 + s),)"),
        "sigma(-a) as value": (
            "return 1 / (1 + np.exp(a))", "s = 1 / (1 + np.exp(-a))\nreturn (s * (1 - s),)"),
        "exp(-a)": ("return 1 / (1 + np.exp(-a))", "return (np.exp(-a),)"),
        "math.exp fails on arrays": (
            "return 1 / (1 + math.exp(-a))",
            "s = 1 / (1 + math.exp(-a))\nreturn (s * (1 - s),)", _MATH),
    }),
    "_relu": _ops("_relu", "a", {
        "where, heaviside": ("return np.where(a > 0, a, 0.0)", "return (np.heaviside(a, 0.0),)"),
        "a times mask": (
            "return a * (a > 0)", "return (np.greater(a, 0).astype(float),)"),
    }, {
        "Python max fails on arrays": ("return max(a, 0.0)", "return ((a > 0) * 1.0,)"),
        "returns relu as derivative": (
            "return np.maximum(a, 0.0)", "return (np.where(a > 0, a, 0.0),)"),
        "derivative 1 everywhere": ("return np.maximum(a, 0.0)", "return (1.0,)"),
        "abs": ("return np.abs(a)", "return ((a > 0) * 1.0,)"),
        "mask flipped": ("return np.maximum(a, 0.0)", "return ((a < 0) * 1.0,)"),
    }),
    "jacobian": {
        "correct": {
            "column_stack, getattr": '''
def jacobian(f, *xs):
    columns = []
    for j, xj in enumerate(xs):
        variable = ForwardValue(xj)
        inputs = list(xs)
        inputs[j] = variable
        grads = [getattr(out, "forward_grads", {}).get(variable, 0.0) for out in f(*inputs)]
        columns.append(np.array(grads, dtype=float))
    return np.column_stack(columns)
''',
            "one pass with every input a variable": '''
def jacobian(f, *xs):
    inputs = [ForwardValue(x) for x in xs]
    outs = f(*inputs)
    J = np.zeros((len(outs), len(xs)))
    for i, out in enumerate(outs):
        if isinstance(out, ForwardValue):
            for j, variable in enumerate(inputs):
                J[i, j] = out.forward_grads.get(variable, 0.0)
    return J
''',
            "fills rows of a preallocated array": '''
def jacobian(f, *xs):
    J = None
    for j in range(len(xs)):
        inputs = [ForwardValue(x) if k == j else x for k, x in enumerate(xs)]
        outs = f(*inputs)
        if J is None:
            J = np.zeros((len(outs), len(xs)))
        for i, out in enumerate(outs):
            if isinstance(out, ForwardValue) and inputs[j] in out.forward_grads:
                J[i, j] = out.forward_grads[inputs[j]]
    return J
''',
        },
        "bugs": {
            "transposed (n, m)": '''
def jacobian(f, *xs):
    rows = []
    for j in range(len(xs)):
        inputs = [ForwardValue(x) if k == j else x for k, x in enumerate(xs)]
        rows.append([getattr(o, "forward_grads", {}).get(inputs[j], 0.0) for o in f(*inputs)])
    return np.array(rows)
''',
            "assumes every output is a ForwardValue": '''
def jacobian(f, *xs):
    columns = []
    for j in range(len(xs)):
        inputs = [ForwardValue(x) if k == j else x for k, x in enumerate(xs)]
        columns.append([out.forward_grads.get(inputs[j], 0.0) for out in f(*inputs)])
    return np.array(columns).T
''',
            "always reads the first input's derivative": '''
def jacobian(f, *xs):
    inputs = [ForwardValue(x) for x in xs]
    outs = f(*inputs)
    J = np.zeros((len(outs), len(xs)))
    for i, out in enumerate(outs):
        for j in range(len(xs)):
            J[i, j] = getattr(out, "forward_grads", {}).get(inputs[0], 0.0)
    return J
''',
            "values instead of derivatives": '''
def jacobian(f, *xs):
    columns = []
    for j in range(len(xs)):
        inputs = [ForwardValue(x) if k == j else x for k, x in enumerate(xs)]
        columns.append([getattr(o, "value", o) for o in f(*inputs)])
    return np.array(columns, dtype=float).T
''',
            "every input a variable, first tangent of the dict": '''
def jacobian(f, *xs):
    columns = []
    for j in range(len(xs)):
        inputs = [ForwardValue(x) for x in xs]
        column = []
        for out in f(*inputs):
            grads = list(getattr(out, "forward_grads", {0: 0.0}).values())
            column.append(grads[0])
        columns.append(column)
    return np.array(columns, dtype=float).T
''',
        },
    },
}
