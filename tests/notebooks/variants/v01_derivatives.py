"""Variants for 01-derivatives: correct alternatives that must pass, typical bugs that must fail."""

EXERCISES = {
    "forward_difference": {
        "correct": {
            "two_lines": (
                "def forward_difference(f, x, h):\n"
                "    rise = f(x + h) - f(x)\n"
                "    return rise / h\n"
            ),
            "times_reciprocal": (
                "def forward_difference(f, x, h):\n"
                "    return (f(x + h) + (-f(x))) * (1.0 / h)\n"
            ),
            "numpy_scalar": (
                "def forward_difference(f, x, h):\n"
                "    return np.float64(np.subtract(f(x + h), f(x)) / h)\n"
            ),
        },
        "bugs": {
            "central_instead": (
                "def forward_difference(f, x, h):\n"
                "    return (f(x + h) - f(x - h)) / (2 * h)\n"
            ),
            "backward_difference": (
                "def forward_difference(f, x, h):\n"
                "    return (f(x) - f(x - h)) / h\n"
            ),
            "wrong_sign": (
                "def forward_difference(f, x, h):\n"
                "    return (f(x) - f(x + h)) / h\n"
            ),
            "divides_by_2h": (
                "def forward_difference(f, x, h):\n"
                "    return (f(x + h) - f(x)) / (2 * h)\n"
            ),
            "ignores_h": (
                "def forward_difference(f, x, h):\n"
                "    return (f(x + 1e-7) - f(x)) / 1e-7\n"
            ),
            "missing_parentheses": (
                "def forward_difference(f, x, h):\n"
                "    return f(x + h) - f(x) / h\n"
            ),
        },
    },
    "central_difference": {
        "correct": {
            "halves": (
                "def central_difference(f, x, h):\n"
                "    return 0.5 * (f(x + h) - f(x - h)) / h\n"
            ),
            "average_of_one_sided": (
                "def central_difference(f, x, h):\n"
                "    forward = (f(x + h) - f(x)) / h\n"
                "    backward = (f(x) - f(x - h)) / h\n"
                "    return (forward + backward) / 2\n"
            ),
            "list_comprehension_free_numpy": (
                "def central_difference(f, x, h):\n"
                "    values = [f(x + h), f(x - h)]\n"
                "    return np.float64(values[0] - values[1]) / (h + h)\n"
            ),
        },
        "bugs": {
            "forward_instead": (
                "def central_difference(f, x, h):\n"
                "    return (f(x + h) - f(x)) / h\n"
            ),
            "missing_factor_two": (
                "def central_difference(f, x, h):\n"
                "    return (f(x + h) - f(x - h)) / h\n"
            ),
            "wrong_sign": (
                "def central_difference(f, x, h):\n"
                "    return (f(x - h) - f(x + h)) / (2 * h)\n"
            ),
            "ignores_h": (
                "def central_difference(f, x, h):\n"
                "    return (f(x + 1e-6) - f(x - 1e-6)) / 2e-6\n"
            ),
            "precedence": (
                "def central_difference(f, x, h):\n"
                "    return (f(x + h) - f(x - h)) / 2 * h\n"
            ),
            "math_module": (
                "import math\n"
                "def central_difference(f, x, h):\n"
                "    return (f(x + h) - f(x - h)) / (2 * h) + 0 * math.sqrt(x * x)\n"
            ),
        },
    },
    "numerical_gradient": {
        "correct": {
            "flat_view": (
                "def numerical_gradient(f, x, h):\n"
                "    x = np.array(x, dtype=float)\n"
                "    flat = x.reshape(-1)\n"
                "    gradient = np.empty_like(flat)\n"
                "    for i in range(flat.size):\n"
                "        old = flat[i]\n"
                "        flat[i] = old + h\n"
                "        up = f(x)\n"
                "        flat[i] = old - h\n"
                "        down = f(x)\n"
                "        flat[i] = old\n"
                "        gradient[i] = (up - down) / (2 * h)\n"
                "    return gradient.reshape(x.shape)\n"
            ),
            "unit_arrays_with_central_difference": (
                "def numerical_gradient(f, x, h):\n"
                "    gradient = np.zeros_like(x, dtype=float)\n"
                "    for index in np.ndindex(x.shape):\n"
                "        e = np.zeros_like(x, dtype=float)\n"
                "        e[index] = 1.0\n"
                "        gradient[index] = central_difference(lambda t: f(x + t * e), 0.0, h)\n"
                "    return gradient\n"
            ),
            "restores_in_place": (
                "def numerical_gradient(f, x, h):\n"
                "    out = np.zeros(x.shape)\n"
                "    it = np.nditer(x, flags=['multi_index'])\n"
                "    for _ in it:\n"
                "        i = it.multi_index\n"
                "        keep = x[i]\n"
                "        x[i] = keep + h\n"
                "        a = f(x)\n"
                "        x[i] = keep - h\n"
                "        b = f(x)\n"
                "        x[i] = keep\n"
                "        out[i] = (a - b) / (2 * h)\n"
                "    return out\n"
            ),
        },
        "bugs": {
            "nudges_every_entry": (
                "def numerical_gradient(f, x, h):\n"
                "    g = (f(x + h) - f(x - h)) / (2 * h)\n"
                "    return np.full(x.shape, g)\n"
            ),
            "one_dimensional_only": (
                "def numerical_gradient(f, x, h):\n"
                "    g = np.zeros(len(x))\n"
                "    for i in range(len(x)):\n"
                "        e = np.zeros(len(x))\n"
                "        e[i] = h\n"
                "        g[i] = (f(x + e) - f(x - e)) / (2 * h)\n"
                "    return g\n"
            ),
            "forgets_to_restore": (
                "def numerical_gradient(f, x, h):\n"
                "    g = np.zeros_like(x)\n"
                "    for i in np.ndindex(x.shape):\n"
                "        x[i] += h\n"
                "        a = f(x)\n"
                "        x[i] -= 2 * h\n"
                "        b = f(x)\n"
                "        g[i] = (a - b) / (2 * h)\n"
                "    return g\n"
            ),
            "flattened_result": (
                "def numerical_gradient(f, x, h):\n"
                "    g = []\n"
                "    for i in np.ndindex(x.shape):\n"
                "        p, m = x.copy(), x.copy()\n"
                "        p[i] += h\n"
                "        m[i] -= h\n"
                "        g.append((f(p) - f(m)) / (2 * h))\n"
                "    return np.array(g)\n"
            ),
            "missing_factor_two": (
                "def numerical_gradient(f, x, h):\n"
                "    g = np.zeros_like(x)\n"
                "    for i in np.ndindex(x.shape):\n"
                "        p, m = x.copy(), x.copy()\n"
                "        p[i] += h\n"
                "        m[i] -= h\n"
                "        g[i] = (f(p) - f(m)) / h\n"
                "    return g\n"
            ),
            "forward_with_big_error": (
                "def numerical_gradient(f, x, h):\n"
                "    g = np.zeros_like(x)\n"
                "    for i in np.ndindex(x.shape):\n"
                "        p = x.copy()\n"
                "        p[i] += h\n"
                "        g[i] = (f(p) - f(x)) / h\n"
                "    return g\n"
            ),
        },
    },
    "sigmoid_derivative": {
        "correct": {
            "quotient_rule": (
                "def sigmoid_derivative(x):\n"
                "    e = np.exp(-x)\n"
                "    return e / (1 + e) ** 2\n"
            ),
            "product_of_sigmoids": (
                "def sigmoid_derivative(x):\n"
                "    return sigmoid(x) * sigmoid(-x)\n"
            ),
            "via_tanh": (
                "def sigmoid_derivative(x):\n"
                "    return 0.25 * (1 - np.tanh(x / 2) ** 2)\n"
            ),
        },
        "bugs": {
            "plus_instead_of_minus": (
                "def sigmoid_derivative(x):\n"
                "    s = sigmoid(x)\n"
                "    return s * (1 + s)\n"
            ),
            "returns_sigmoid": (
                "def sigmoid_derivative(x):\n"
                "    return sigmoid(x)\n"
            ),
            "math_exp": (
                "import math\n"
                "def sigmoid_derivative(x):\n"
                "    e = math.exp(-x)\n"
                "    return e / (1 + e) ** 2\n"
            ),
            "missing_chain_factor": (
                "def sigmoid_derivative(x):\n"
                "    return -1 / (1 + np.exp(-x)) ** 2\n"
            ),
            "wrong_sign": (
                "def sigmoid_derivative(x):\n"
                "    s = sigmoid(x)\n"
                "    return s * (s - 1)\n"
            ),
        },
    },
    "tanh_derivative": {
        "correct": {
            "cosh": (
                "def tanh_derivative(x):\n"
                "    return 1 / np.cosh(x) ** 2\n"
            ),
            "factored": (
                "def tanh_derivative(x):\n"
                "    t = np.tanh(x)\n"
                "    return (1 - t) * (1 + t)\n"
            ),
            "via_sigmoid": (
                "def tanh_derivative(x):\n"
                "    return 4 * sigmoid_derivative(2 * x)\n"
            ),
        },
        "bugs": {
            "plus": (
                "def tanh_derivative(x):\n"
                "    return 1 + np.tanh(x) ** 2\n"
            ),
            "not_squared": (
                "def tanh_derivative(x):\n"
                "    return 1 - np.tanh(x)\n"
            ),
            "math_tanh": (
                "import math\n"
                "def tanh_derivative(x):\n"
                "    return 1 - math.tanh(x) ** 2\n"
            ),
            "negated": (
                "def tanh_derivative(x):\n"
                "    return np.tanh(x) ** 2 - 1\n"
            ),
            "sigmoid_formula": (
                "def tanh_derivative(x):\n"
                "    t = np.tanh(x)\n"
                "    return t * (1 - t)\n"
            ),
        },
    },
}
