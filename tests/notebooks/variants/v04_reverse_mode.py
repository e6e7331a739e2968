"""Alternative answers for 04-reverse-mode: correct ones must pass, typical bugs must fail.

Each source replaces the answer cell in a kernel where the master notebook has run, so it may use
`np`, `math` and `AutogradValue`. The `backward_pass` and `backward` sources are also run by
tests/coursekit/test_reverse_checks.py against the checks directly.
"""


def _op(name: str, doc: str, sig: str, func: str, grads: str) -> str:
    """An op class with the notebook's given `func` and the given `grads` body."""
    body = "\n".join("        " + line for line in grads.strip().splitlines())
    return (
        f"class {name}(AutogradValue):\n"
        f'    """{doc}"""\n\n'
        f"    def func(self, {sig}):\n        return {func}\n\n"
        f"    def grads(self, {sig}):\n{body}\n"
    )


def _op_variants(name, doc, sig, func, correct, bugs, wrong_funcs=None):
    spec = {
        "correct": {k: _op(name, doc, sig, func, v) for k, v in correct.items()},
        "bugs": {k: _op(name, doc, sig, func, v) for k, v in bugs.items()},
    }
    right = next(iter(correct.values()))
    for k, wrong in (wrong_funcs or {}).items():
        spec["bugs"][k] = _op(name, doc, sig, wrong, right)
    return spec


EXERCISES = {
    "_sub": _op_variants(
        "_sub", "c = a - b", "a, b", "a - b",
        correct={
            "floats": "return 1.0, -1.0",
            "list": "return [1, -1]",
            "arrays_like_inputs": "return np.ones_like(a), -np.ones_like(b)",
        },
        bugs={
            "sign_flipped": "return 1.0, 1.0",
            "both_negative": "return -1.0, 1.0",
            "values_not_derivatives": "return a, -b",
            "one_partial": "return (1.0,)",
            "zero_second": "return 1.0, 0.0",
        },
        wrong_funcs={"func_is_add": "a + b"},
    ),
    "_mul": _op_variants(
        "_mul", "c = a * b", "a, b", "a * b",
        correct={
            "tuple": "return b, a",
            "list_times_one": "return [1.0 * b, 1.0 * a]",
            "numpy_scalars": "return np.float64(1) * b, np.float64(1) * a",
        },
        bugs={
            "swapped": "return a, b",
            "ones": "return 1.0, 1.0",
            "product": "return a * b, a * b",
            "negated": "return -b, -a",
            "scalar_not_tuple": "return b",
        },
    ),
    "_div": _op_variants(
        "_div", "c = a / b", "a, b", "a / b",
        correct={
            "textbook": "return 1 / b, -a / b**2",
            "via_c": "c = a / b\nreturn 1.0 / b, -c / b",
            "list": "return [b ** -1, -a * b ** -2]",
        },
        bugs={
            "sign_second": "return 1 / b, a / b**2",
            "missing_square": "return 1 / b, -a / b",
            "swapped": "return -a / b**2, 1 / b",
            "first_is_b": "return b, -a / b**2",
            "quotient_rule_wrong": "return 1 / b, -1 / b**2",
        },
    ),
    "_pow": _op_variants(
        "_pow", "c = a ** b, for a > 0", "a, b", "a**b",
        correct={
            "textbook": "return b * a ** (b - 1), a**b * np.log(a)",
            "via_c": "c = a**b\nreturn c * b / a, c * np.log(a)",
            "exp_form": "return b * np.exp((b - 1) * np.log(a)), np.exp(b * np.log(a)) * np.log(a)",
        },
        bugs={
            "exponent_treated_as_constant": "return b * a ** (b - 1), 0.0",
            "power_rule_for_exponent": "return b * a ** (b - 1), b * a ** (b - 1)",
            "missing_log": "return b * a ** (b - 1), a**b",
            "off_by_one_power": "return b * a**b, a**b * np.log(a)",
            "math_log": "return b * a ** (b - 1), a**b * math.log(a)",
        },
    ),
    "_exp": _op_variants(
        "_exp", "c = exp(a)", "a", "np.exp(a)",
        correct={
            "tuple": "return (np.exp(a),)",
            "list": "return [np.exp(a)]",
            "power": "return (np.e ** a,)",
            "own_value": "return (self.value,)",
        },
        bugs={
            "not_a_tuple": "return np.exp(a)",
            "math_exp": "return (math.exp(a),)",
            "one": "return (1.0,)",
            "power_rule": "return (a * np.exp(a - 1),)",
            "negative_exponent": "return (np.exp(-a),)",
        },
    ),
    "_log": _op_variants(
        "_log", "c = log(a), the natural logarithm, for a > 0", "a", "np.log(a)",
        correct={
            "reciprocal": "return (1 / a,)",
            "power": "return [a ** -1.0]",
            "divide": "return (np.divide(1.0, a),)",
        },
        bugs={
            "log_itself": "return (np.log(a),)",
            "negative": "return (-1 / a,)",
            "squared": "return (1 / a**2,)",
            "not_a_tuple": "return 1 / a",
            "a": "return (a,)",
        },
    ),
    "_sin": _op_variants(
        "_sin", "c = sin(a)", "a", "np.sin(a)",
        correct={
            "cos": "return (np.cos(a),)",
            "shifted_sin": "return [np.sin(a + np.pi / 2)]",
            "identity": "return (np.sqrt(1 - np.sin(a) ** 2) * np.sign(np.cos(a)),)",
        },
        bugs={
            "minus_cos": "return (-np.cos(a),)",
            "sin": "return (np.sin(a),)",
            "math_cos": "return (math.cos(a),)",
            "not_a_tuple": "return np.cos(a)",
            "degrees": "return (np.cos(np.radians(a)),)",
        },
    ),
    "_cos": _op_variants(
        "_cos", "c = cos(a)", "a", "np.cos(a)",
        correct={
            "minus_sin": "return (-np.sin(a),)",
            "shifted": "return [np.cos(a + np.pi / 2)]",
            "negative_of": "return (np.negative(np.sin(a)),)",
        },
        bugs={
            "sign_flipped": "return (np.sin(a),)",
            "cos": "return (-np.cos(a),)",
            "math_sin": "return (-math.sin(a),)",
            "not_a_tuple": "return -np.sin(a)",
            "one": "return (-1.0,)",
        },
    ),
    "_tanh": _op_variants(
        "_tanh", "c = tanh(a)", "a", "np.tanh(a)",
        correct={
            "one_minus_square": "return (1 - np.tanh(a) ** 2,)",
            "sech_squared": "return [1 / np.cosh(a) ** 2]",
            "product": "t = np.tanh(a)\nreturn ((1 - t) * (1 + t),)",
            # the node's own value: set by the constructor before any backward runs
            "own_value": "t = self.value\nreturn (1 - t ** 2,)",
        },
        bugs={
            "missing_square": "return (1 - np.tanh(a),)",
            "sign_flipped": "return (np.tanh(a) ** 2 - 1,)",
            "sigmoid_formula": "t = np.tanh(a)\nreturn (t * (1 - t),)",
            "math_tanh": "return (1 - math.tanh(a) ** 2,)",
            "cosh_not_squared": "return (1 / np.cosh(a),)",
        },
        wrong_funcs={"func_sigmoid": "1 / (1 + np.exp(-a))"},
    ),
    "_sigmoid": _op_variants(
        "_sigmoid", "c = sigmoid(a) = 1 / (1 + exp(-a))", "a", "1 / (1 + np.exp(-a))",
        correct={
            "s_one_minus_s": "s = 1 / (1 + np.exp(-a))\nreturn (s * (1 - s),)",
            "quotient": "return [np.exp(-a) / (1 + np.exp(-a)) ** 2]",
            "via_func": "s = self.func(a)\nreturn (s - s * s,)",
            "own_value": "s = self.value\nreturn (s * (1 - s),)",
        },
        bugs={
            "sign_flipped": "s = 1 / (1 + np.exp(-a))\nreturn (s * (s - 1),)",
            "sigmoid_itself": "return (1 / (1 + np.exp(-a)),)",
            "missing_one_minus": "s = 1 / (1 + np.exp(-a))\nreturn (s * s,)",
            "exp_sign": "return (np.exp(a) / (1 + np.exp(-a)) ** 2,)",
            "math_exp": "s = 1 / (1 + math.exp(-a))\nreturn (s * (1 - s),)",
        },
    ),
    "_relu": _op_variants(
        "_relu", "c = relu(a) = max(a, 0)", "a", "np.maximum(a, 0.0)",
        correct={
            "where": "return (np.where(a > 0, 1.0, 0.0),)",
            "comparison": "return [(a > 0) * 1.0]",
            "heaviside": "return (np.heaviside(a, 0.5),)",
        },
        bugs={
            "python_if": "if a > 0:\n    return (1.0,)\nreturn (0.0,)",
            "reversed": "return (np.where(a > 0, 0.0, 1.0),)",
            "always_one": "return (1.0,)",
            "value_not_slope": "return (np.maximum(a, 0.0),)",
            "sign": "return (np.sign(a),)",
        },
        wrong_funcs={"func_abs": "np.abs(a)"},
    ),
}


BACKWARD_PASS = "def backward_pass(node):\n"

EXERCISES["backward_pass"] = {
    "correct": {
        "zip": BACKWARD_PASS + """\
    local_grads = node.grads(*node.parent_values)
    for parent, local in zip(node.parents, local_grads):
        if isinstance(parent, AutogradValue):
            parent.grad = parent.grad + node.grad * local
""",
        "in_place_add_with_index": BACKWARD_PASS + """\
    local_grads = node.grads(*node.parent_values)
    for i in range(len(node.parents)):
        if isinstance(node.parents[i], AutogradValue):
            node.parents[i].grad += local_grads[i] * node.grad
""",
        "hasattr_check": BACKWARD_PASS + """\
    pairs = zip(node.parents, node.grads(*node.parent_values))
    for parent, local in [(p, g) for p, g in pairs if hasattr(p, "grad")]:
        parent.grad = np.add(parent.grad, np.multiply(node.grad, local))
""",
    },
    "bugs": {
        "overwrites": BACKWARD_PASS + """\
    for parent, local in zip(node.parents, node.grads(*node.parent_values)):
        if isinstance(parent, AutogradValue):
            parent.grad = node.grad * local
""",
        "missing_upstream": BACKWARD_PASS + """\
    for parent, local in zip(node.parents, node.grads(*node.parent_values)):
        if isinstance(parent, AutogradValue):
            parent.grad = parent.grad + local
""",
        "constants_not_skipped": BACKWARD_PASS + """\
    for parent, local in zip(node.parents, node.grads(*node.parent_values)):
        parent.grad = parent.grad + node.grad * local
""",
        "partials_reversed": BACKWARD_PASS + """\
    local_grads = node.grads(*node.parent_values)[::-1]
    for parent, local in zip(node.parents, local_grads):
        if isinstance(parent, AutogradValue):
            parent.grad = parent.grad + node.grad * local
""",
        "same_parent_once": BACKWARD_PASS + """\
    pairs = dict(zip(node.parents, node.grads(*node.parent_values)))
    for parent, local in pairs.items():
        if isinstance(parent, AutogradValue):
            parent.grad = parent.grad + node.grad * local
""",
        "clears_own_grad": BACKWARD_PASS + """\
    for parent, local in zip(node.parents, node.grads(*node.parent_values)):
        if isinstance(parent, AutogradValue):
            parent.grad = parent.grad + node.grad * local
    node.grad = 0.0
""",
        "float_conversion": BACKWARD_PASS + """\
    for parent, local in zip(node.parents, node.grads(*node.parent_values)):
        if isinstance(parent, AutogradValue):
            parent.grad = float(parent.grad + node.grad * local)
""",
    },
}


BACKWARD = "def backward(output):\n"

EXERCISES["backward"] = {
    "correct": {
        "stack_of_pairs": BACKWARD + """\
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            for parent in node.parents:
                if isinstance(parent, AutogradValue) and parent not in visited:
                    stack.append((parent, False))
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        node.backward_pass()
""",
        "kahn_counts_children": BACKWARD + """\
    # count how many nodes use each node, then release a node when all of them are done
    nodes, children, stack = {id(output): output}, {}, [output]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if isinstance(parent, AutogradValue):
                children[id(parent)] = children.get(id(parent), 0) + 1
                if id(parent) not in nodes:
                    nodes[id(parent)] = parent
                    stack.append(parent)
    for node in nodes.values():
        node.grad = 0.0
    output.grad = 1.0
    ready = [output]
    while ready:
        node = ready.pop()
        node.backward_pass()
        for parent in node.parents:
            if isinstance(parent, AutogradValue):
                children[id(parent)] -= 1
                if children[id(parent)] == 0:
                    ready.append(parent)
""",
        "skips_variables": BACKWARD + """\
    order, done, stack = [], set(), [output]
    while stack:
        node = stack[-1]
        pending = [p for p in node.parents if isinstance(p, AutogradValue) and p not in done]
        if pending:
            stack.append(pending[0])
            continue
        stack.pop()
        if node not in done:
            done.add(node)
            order.append(node)
    for node in order:
        node.grad = 0
    output.grad = 1
    for node in order[::-1]:
        if any(isinstance(p, AutogradValue) for p in node.parents):
            node.backward_pass()
""",
    },
    "bugs": {
        "recursive_topological_sort": BACKWARD + """\
    order, visited = [], set()

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        for parent in node.parents:
            if isinstance(parent, AutogradValue):
                visit(parent)
        order.append(node)

    visit(output)
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        node.backward_pass()
""",
        "no_reset": BACKWARD + """\
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    output.grad = 1.0
    for node in reversed(order):
        node.backward_pass()
""",
        "breadth_first_each_once": BACKWARD + """\
    output.grad = 1.0
    queue, seen = [output], {output}
    while queue:
        node = queue.pop(0)
        node.backward_pass()
        for parent in node.parents:
            if isinstance(parent, AutogradValue) and parent not in seen:
                seen.add(parent)
                queue.append(parent)
""",
        "push_and_recurse": BACKWARD + """\
    output.grad = 1.0
    stack = [output]
    while stack:
        node = stack.pop()
        node.backward_pass()
        stack.extend(p for p in node.parents if isinstance(p, AutogradValue))
""",
        "not_reversed": BACKWARD + """\
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in order:
        node.backward_pass()
""",
        "constants_not_skipped": BACKWARD + """\
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        node.backward_pass()
""",
        "reset_after_seed": BACKWARD + """\
    order, visited, stack = [], set(), [(output, False)]
    output.grad = 1.0
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    for node in order:
        node.grad = 0.0
    for node in reversed(order):
        node.backward_pass()
""",
        "seed_after_passes": BACKWARD + """\
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    for node in order:
        node.grad = 0.0
    for node in reversed(order):
        node.backward_pass()
    output.grad = 1.0
""",
        "visited_kept_between_calls": """\
_visited = set()  # outside the function: the second call finds every node already visited


def backward(output):
    order, stack = [], [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in _visited:
            _visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        node.backward_pass()
""",
        "visited_list_duplicates": BACKWARD + """\
    # marks a node visited only when it finishes, so a shared node is expanded twice
    order, stack = [], [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        node.backward_pass()
""",
    },
}
