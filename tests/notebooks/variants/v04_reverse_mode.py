"""Alternative answers for 04-reverse-mode: correct ones must pass, typical bugs must fail.

Each source replaces the answer cell in a kernel where the master notebook has run, so it may use
`np`, `math` and `AutogradValue`. The `backward_pass`, `backward` and `_max` sources are also run
by tests/coursekit/test_reverse_checks.py against the checks directly, and
tests/coursekit/test_hints_of_variants.py pins the hint each bug gets.

04 grades no op derivative (its ops' `grads` are the student's own from notebook 03, pasted into
an ungraded cell), so the op variants live in v03_forward_mode.py only.
"""


def _max_op(grads: str) -> str:
    """The notebook's `_max` class with the given `grads` body."""
    body = "\n".join("        " + line for line in grads.strip().splitlines())
    return (
        "class _max(AutogradValue):\n"
        '    """m = max(a, b), elementwise"""\n\n'
        "    def func(self, a, b):\n        return np.maximum(a, b)\n\n"
        f"    def grads(self, a, b):\n{body}\n"
    )


#: `_max` variants: (grads body, the words of the hint the bug must get; None for a correct one)
MAX_VARIANTS = {
    "correct": {
        "nested_where_half": ("first = np.where(a > b, 1.0, np.where(a < b, 0.0, 0.5))\n"
                              "return first, 1.0 - first", None),
        "comparisons_and_half": ("w = (a > b) + 0.5 * (a == b)\nreturn w, 1 - w", None),
        "heaviside": ("return np.heaviside(a - b, 0.5), np.heaviside(b - a, 0.5)", None),
        "tie_to_the_first": ("w = (a >= b) * 1.0\nreturn w, 1.0 - w", None),
        "own_value": ("w = np.where(a == self.value, 1.0, 0.0)\nreturn [w, 1 - w]", None),
    },
    "bugs": {
        "tie_counted_twice": ("return np.where(a >= b, 1.0, 0.0), np.where(b >= a, 1.0, 0.0)",
                              "counted twice"),
        "tie_lost": ("return (a > b) * 1.0, (b > a) * 1.0", "it is lost"),
        "python_if": ("if a > b:\n    return 1.0, 0.0\nreturn 0.0, 1.0", "np.where"),
        "to_the_smaller": ("return np.where(a < b, 1.0, 0.0), np.where(a > b, 1.0, 0.0)",
                           "went to the smaller input"),
        "like_an_add_gate": ("return 1.0, 1.0", "as through an add gate"),
        "one_partial": ("return (np.where(a > b, 1.0, 0.0),)", "return a tuple of two partials"),
        "values_not_partials": ("return np.maximum(a, b), np.minimum(a, b)",
                                "1 for the larger input and 0 for the smaller"),
    },
}

EXERCISES = {
    "_max": {kind: {name: _max_op(body) for name, (body, _) in variants.items()}
             for kind, variants in MAX_VARIANTS.items()},
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

STACK_OF_PAIRS = BACKWARD + """\
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
"""

EXERCISES["backward"] = {
    "correct": {
        "stack_of_pairs": STACK_OF_PAIRS,
        # the function itself, not the method: the same push
        "calls_the_function": STACK_OF_PAIRS.replace("node.backward_pass()",
                                                     "backward_pass(node)"),
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
