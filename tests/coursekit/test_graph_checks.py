"""coursekit.graph_checks: correct backward passes pass, each typical bug fails with its message.

The answers come from the notebook's variants (tests/notebooks/variants/v04_reverse_mode.py),
run here against the checks directly in a namespace holding the notebook's base class.
"""

import numpy as np
import pytest
from coursekit import graph_checks as gc
from coursekit.checks import CheckFailure

from tests.notebooks.variants.v04_reverse_mode import EXERCISES

BASE_CLASS = '''
import math
import numpy as np


class AutogradValue:
    __array_ufunc__ = None

    def __init__(self, *args):
        self.parents = args
        self.parent_values = [a.value if isinstance(a, AutogradValue) else a for a in args]
        self.value = self.func(*self.parent_values)
        self.grad = 0.0

    def func(self, input):
        return input

    def grads(self, *args):
        return (1.0,)

    def backward_pass(self):
        backward_pass(self)

    def backward(self):
        backward(self)
'''

REFERENCE_BACKWARD_PASS = EXERCISES["backward_pass"]["correct"]["zip"]
REFERENCE_BACKWARD = EXERCISES["backward"]["correct"]["stack_of_pairs"]


def engine(backward_pass=REFERENCE_BACKWARD_PASS, backward=REFERENCE_BACKWARD):
    namespace = {}
    exec(BASE_CLASS, namespace)
    exec(backward_pass, namespace)
    exec(backward, namespace)
    return namespace


# ----------------------------------------------------------------------------- backward_pass


@pytest.mark.parametrize("name", sorted(EXERCISES["backward_pass"]["correct"]))
def test_correct_backward_pass_passes(name):
    ns = engine(backward_pass=EXERCISES["backward_pass"]["correct"][name])
    for seed in (4, 5, 6):
        gc.check_backward_pass(ns["backward_pass"], ns["AutogradValue"], seed=seed)


BACKWARD_PASS_MESSAGES = {
    "overwrites": "instead of adding",
    "missing_upstream": "upstream factor node.grad is missing",
    "constants_not_skipped": "constant",
    "partials_reversed": "other input's partial",
    "same_parent_once": "both inputs of this node",
    "clears_own_grad": "changed node.grad itself",
    "float_conversion": "numpy arrays",
}


@pytest.mark.parametrize("name", sorted(EXERCISES["backward_pass"]["bugs"]))
def test_backward_pass_bug_fails_with_its_message(name):
    ns = engine(backward_pass=EXERCISES["backward_pass"]["bugs"][name])
    with pytest.raises(CheckFailure) as failure:
        gc.check_backward_pass(ns["backward_pass"], ns["AutogradValue"])
    assert BACKWARD_PASS_MESSAGES[name] in str(failure.value)


def test_backward_pass_stub_raises_not_implemented():
    ns = engine(backward_pass="def backward_pass(node):\n    raise NotImplementedError()\n")
    with pytest.raises(NotImplementedError):
        gc.check_backward_pass(ns["backward_pass"], ns["AutogradValue"])


# ----------------------------------------------------------------------------- backward


@pytest.mark.parametrize("name", sorted(EXERCISES["backward"]["correct"]))
def test_correct_backward_passes(name):
    ns = engine(backward=EXERCISES["backward"]["correct"][name])
    gc.check_backward(ns["backward"], ns["AutogradValue"])
    gc.check_backward_random(ns["backward"], ns["AutogradValue"], seeds=range(3, 12))


BACKWARD_MESSAGES = {
    "recursive_topological_sort": "recursion limit",
    "no_reset": "not reset",
    "breadth_first_each_once": "was processed before its child",
    "push_and_recurse": "times",
    "not_reversed": "must be processed first",
    "constants_not_skipped": "plain number (a constant)",
    "reset_after_seed": "output.grad is 0",
    "visited_list_duplicates": "times",
}


@pytest.mark.parametrize("name", sorted(EXERCISES["backward"]["bugs"]))
def test_backward_bug_fails_with_its_message(name):
    ns = engine(backward=EXERCISES["backward"]["bugs"][name])
    with pytest.raises(CheckFailure) as failure:
        gc.check_backward(ns["backward"], ns["AutogradValue"])
    assert BACKWARD_MESSAGES[name] in str(failure.value)


def test_a_backward_that_never_calls_backward_pass_is_told_so():
    source = (
        "def backward(output):\n"
        "    output.grad = 1.0\n"
        "    backward_pass(output)\n"
    )
    ns = engine(backward=source)
    with pytest.raises(CheckFailure, match="never called node.backward_pass"):
        gc.check_backward_shapes(ns["backward"], ns["AutogradValue"])


def test_the_order_message_names_the_parent_and_the_child():
    ns = engine()
    base = ns["AutogradValue"]
    ops = gc.kit_ops(base)
    x = base(1.0)
    x.label = "x"
    a = ops.sin(x)
    a.label = "a = sin(x)"
    y = ops.mul(a, a)
    y.label = "y = a * a"
    with pytest.raises(CheckFailure) as failure:
        gc.check_visit_order([y, x, a], y, base, "a test graph")
    assert "node x was processed before its child a = sin(x)" in str(failure.value)
    assert "reverse topological order" in str(failure.value)
    gc.check_visit_order([y, a, x], y, base, "a test graph")
    gc.check_visit_order([y, a], y, base, "a test graph")  # variables may be skipped
    with pytest.raises(CheckFailure, match="2 times"):
        gc.check_visit_order([y, a, a, x], y, base, "a test graph")
    with pytest.raises(CheckFailure, match="never processed node a"):
        gc.check_visit_order([y], y, base, "a test graph")


# ----------------------------------------------------------------------------- random graphs


@pytest.mark.parametrize("seed", range(10))
def test_random_programs_reuse_nodes_and_use_every_input(seed):
    program = gc.random_program(seed)
    assert program.text() == gc.random_program(seed).text()  # seeded
    uses = {}
    for _, refs in program.steps:
        for ref in refs:
            if ref[0] != "const":
                uses[ref] = uses.get(ref, 0) + 1
    assert all(uses.get(("input", i), 0) >= 1 for i in range(program.n_inputs))
    assert all(uses.get(("node", k), 0) >= 1 for k in range(len(program.steps) - 1))
    assert max(uses.values()) >= 2, "no node is reused"
    values = program.values(*program.point)
    assert np.all(np.isfinite(values)) and np.all(np.abs(values) < 50)


def test_some_random_program_uses_a_node_twice_in_one_op():
    assert any(
        len(refs) == 2 and refs[0] == refs[1]
        for seed in range(10)
        for _, refs in gc.random_program(seed).steps
    )


def test_the_reference_gradients_match_the_kits_graph_on_random_programs():
    ns = engine()
    base = ns["AutogradValue"]
    for seed in range(5):
        program = gc.random_program(seed)
        variables = [base(float(v)) for v in program.point]
        output = program.build(gc.kit_ops(base), variables)[-1]
        assert np.isclose(output.value, program.evaluate(*program.point))
        ns["backward"](output)
        for i, variable in enumerate(variables):
            expected = gc.finite_difference_partial(
                program.evaluate, list(program.point), i, None)
            assert np.isclose(variable.grad, expected, rtol=1e-6, atol=1e-8)
