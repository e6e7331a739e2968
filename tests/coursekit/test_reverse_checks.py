"""coursekit.reverse_checks: correct backward passes pass, each typical bug fails with its message,
in the student's Jupyter (in-process) and as the grader decides (requests answered as data).

The answers come from the notebook's variants (tests/notebooks/variants/v04_reverse_mode.py),
run here against the checks directly in a namespace holding the notebook's base class. As the
grader runs them, the student's names are `core.StudentCode` stand-ins and every probe is a
request answered through JSON (tests/coursekit/grader_mode.py).
"""

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
from coursekit import core
from coursekit import reverse_checks as gc
from coursekit.checks import CheckFailure, check_op, finite_difference_partial

from tests.coursekit.grader_mode import both_ways, graded, run_cell
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

REPO = Path(__file__).resolve().parents[2]
REFERENCE_BACKWARD_PASS = EXERCISES["backward_pass"]["correct"]["zip"]
REFERENCE_BACKWARD = EXERCISES["backward"]["correct"]["stack_of_pairs"]


def engine(backward_pass=REFERENCE_BACKWARD_PASS, backward=REFERENCE_BACKWARD):
    namespace = {}
    exec(BASE_CLASS, namespace)
    exec(backward_pass, namespace)
    exec(backward, namespace)
    return namespace


# ----------------------------------------------------------------------------- both ways


def backward_pass_cell(backward_pass, base, seeds=(4,)):
    for seed in seeds:
        gc.check_backward_pass(backward_pass, base, seed=seed)


def backward_cell(backward, base):
    """The grade cell of notebook 04's Exercise 13, visible and hidden tests."""
    gc.check_backward_shapes(backward, base)
    gc.check_backward_random(backward, base, seeds=[0])
    gc.check_long_chain(backward, base)
    gc.check_second_call(backward, base)
    gc.check_backward_random(backward, base, seeds=range(1, 9))
    gc.check_long_chain(backward, base, length=20_000)


BACKWARD_PASS_NAMES = ("backward_pass", "AutogradValue")
BACKWARD_NAMES = ("backward", "AutogradValue")


# ----------------------------------------------------------------------------- backward_pass


@pytest.mark.parametrize("name", sorted(EXERCISES["backward_pass"]["correct"]))
def test_correct_backward_pass_passes_both_ways(name):
    ns = engine(backward_pass=EXERCISES["backward_pass"]["correct"][name])
    args = (ns["backward_pass"], ns["AutogradValue"], (4, 5, 6))
    assert both_ways(backward_pass_cell, args, BACKWARD_PASS_NAMES + (None,)) == ("pass", "")


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
def test_backward_pass_bug_fails_with_its_message_both_ways(name):
    ns = engine(backward_pass=EXERCISES["backward_pass"]["bugs"][name])
    outcome, message = both_ways(
        gc.check_backward_pass, (ns["backward_pass"], ns["AutogradValue"]), BACKWARD_PASS_NAMES)
    assert outcome == "fail"
    assert BACKWARD_PASS_MESSAGES[name] in message


def test_backward_pass_stub_raises_not_implemented_both_ways():
    ns = engine(backward_pass="def backward_pass(node):\n    raise NotImplementedError()\n")
    outcome = both_ways(gc.check_backward_pass, (ns["backward_pass"], ns["AutogradValue"]),
                        BACKWARD_PASS_NAMES)
    assert outcome == ("todo", "")


def test_backward_pass_that_calls_node_backward_pass_is_told_nothing_changed():
    ns = engine(backward_pass="def backward_pass(node):\n    node.backward_pass()\n")
    outcome, message = both_ways(
        gc.check_backward_pass, (ns["backward_pass"], ns["AutogradValue"]), BACKWARD_PASS_NAMES)
    assert outcome == "fail" and "parent.grad did not change" in message


# ----------------------------------------------------------------------------- backward


@pytest.mark.parametrize("name", sorted(EXERCISES["backward"]["correct"]))
def test_correct_backward_passes_both_ways(name):
    ns = engine(backward=EXERCISES["backward"]["correct"][name])
    args = (ns["backward"], ns["AutogradValue"])
    assert both_ways(backward_cell, args, BACKWARD_NAMES) == ("pass", "")
    gc.check_engine_backward(*args)
    gc.check_backward_random(*args, seeds=range(9, 16))


BACKWARD_MESSAGES = {
    "recursive_topological_sort": "recursion limit",
    "no_reset": "not reset",
    "breadth_first_each_once": "was processed before its child",
    "push_and_recurse": "times",
    "not_reversed": "must be processed first",
    "constants_not_skipped": "plain number (a constant)",
    "reset_after_seed": "output.grad is 0",
    "visited_list_duplicates": "times",
    "seed_after_passes": "output.grad is 0",
    "visited_kept_between_calls": "never called node.backward_pass() on the graph n0 = hypot(x0, "
    "x1); n1 = atan(n0); n2 = atan2(n0, 2); n3 = hypot(n1, n2); n4 = atan2(n3, n0), in a second",
}


@pytest.mark.parametrize("name", sorted(EXERCISES["backward"]["bugs"]))
def test_backward_bug_fails_with_its_message_both_ways(name):
    ns = engine(backward=EXERCISES["backward"]["bugs"][name])
    outcome, message = both_ways(backward_cell, (ns["backward"], ns["AutogradValue"]),
                                 BACKWARD_NAMES)
    assert outcome == "fail"
    assert BACKWARD_MESSAGES[name] in message
    with pytest.raises(CheckFailure, match=re.escape(BACKWARD_MESSAGES[name])):
        gc.check_engine_backward(ns["backward"], ns["AutogradValue"])


MORE_BACKWARD_BUGS = {
    # backward adds the gradients itself as well as calling backward_pass: twice the push
    "pushes_itself_too": ("""\
def backward(output):
    order, visited, stack = [], set(), [(output, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if isinstance(p, AutogradValue))
    for node in order:
        node.grad = 0.0
    output.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.grads(*node.parent_values)):
            if isinstance(parent, AutogradValue):
                parent.grad = parent.grad + node.grad * local
        node.backward_pass()
""", "the adding is backward_pass's job"),
    # the function backward_pass(node) counts as the node's call: pushing only the output
    # leaves every other node unprocessed
    "pushes_only_the_output": ("""\
def backward(output):
    output.grad = 1.0
    backward_pass(output)
""", "never processed node"),
    "never_calls_backward_pass": ("""\
def backward(output):
    output.grad = 1.0
""", "never called node.backward_pass"),
    "reversed_chain_without_reset": ("""\
def backward(output):
    output.grad = 1.0
    node = output
    while isinstance(node, AutogradValue):
        node.backward_pass()
        node = next((p for p in node.parents if isinstance(p, AutogradValue)), None)
""", "never processed node"),
}


@pytest.mark.parametrize("name", sorted(MORE_BACKWARD_BUGS))
def test_more_backward_bugs_fail_both_ways(name):
    source, message = MORE_BACKWARD_BUGS[name]
    ns = engine(backward=source)
    outcome, got = both_ways(backward_cell, (ns["backward"], ns["AutogradValue"]), BACKWARD_NAMES)
    assert outcome == "fail"
    assert message in got


def test_the_long_chain_judges_order_reset_and_seed_both_ways():
    """A backward that walks the chain by hand: right without a reset; wrong without a seed."""
    walk = """\
def backward(output):
    nodes, node = [], output
    while isinstance(node, AutogradValue):
        nodes.append(node)
        node = next((p for p in node.parents if isinstance(p, AutogradValue)), None)
    {reset}
    {seed}
    for node in nodes:
        node.backward_pass()
"""
    cases = {
        ("for n in nodes: n.grad = 0.0", "output.grad = 1.0"): ("pass", ""),
        ("pass", "output.grad = 1.0"): ("fail", "the gradients were not reset"),
        ("for n in nodes: n.grad = 0.0", "pass"): ("fail", "output.grad is 0 when"),
    }
    for (reset, seed), (outcome, message) in cases.items():
        ns = engine(backward=walk.format(reset=reset, seed=seed))
        got = both_ways(gc.check_long_chain, (ns["backward"], ns["AutogradValue"], 3000),
                        BACKWARD_NAMES + (None,))
        assert got[0] == outcome and message in got[1]


def test_backward_stub_raises_not_implemented_both_ways():
    ns = engine(backward="def backward(output):\n    raise NotImplementedError()\n")
    assert both_ways(backward_cell, (ns["backward"], ns["AutogradValue"]),
                     BACKWARD_NAMES) == ("todo", "")


def test_the_order_judgement_names_the_parent_and_the_child():
    # x (0), a = atan(x) (1), y = hypot(a, a) (2)
    parents = [[], [0], [1, 1]]
    labels = ["x", "a = atan(x)", "y = hypot(a, a)"]
    with pytest.raises(CheckFailure) as failure:
        gc.check_visit_order([2, 0, 1], parents, labels, "a test graph")
    assert "node x was processed before its child a = atan(x)" in str(failure.value)
    assert "reverse topological order" in str(failure.value)
    gc.check_visit_order([2, 1, 0], parents, labels, "a test graph")
    gc.check_visit_order([2, 1], parents, labels, "a test graph")  # variables may be skipped
    with pytest.raises(CheckFailure, match="2 times"):
        gc.check_visit_order([2, 1, 1, 0], parents, labels, "a test graph")
    with pytest.raises(CheckFailure, match="never processed node a"):
        gc.check_visit_order([2], parents, labels, "a test graph")
    with pytest.raises(CheckFailure, match="not a node of a test graph"):
        gc.check_visit_order([2, -1, 1], parents, labels, "a test graph")
    with pytest.raises(CheckFailure, match="must be processed first"):
        gc.check_visit_order([1, 2, 0], parents, labels, "a test graph")
    with pytest.raises(CheckFailure, match="never called node.backward_pass"):
        gc.check_visit_order([], parents, labels, "a test graph")


def test_the_kits_nodes_record_each_call_and_the_grads_then_and_push_nothing():
    ns = engine()
    base = ns["AutogradValue"]
    program = gc._diamond_program()
    stale = np.arange(2.0, 2.0 + program.n_inputs + len(program.steps))
    [(order, grads, final, calls)] = gc.watched_runs(ns["backward"], base, program.data(), [stale])
    n = len(stale)
    assert calls == len(order) == n and order[0] == n - 1
    expected = np.zeros(n)
    expected[-1] = 1.0
    assert np.array_equal(grads, np.tile(expected, (n, 1))) and np.array_equal(final, expected)


# ----------------------------------------------------------------------------- no answers inside


GRADED_OPS = {  # notebook 03's graded ops (04 grades none): (reference, domains, func source)
    "_sub": (np.subtract, ["real", "real"], lambda self, a, b: a - b),
    "_mul": (np.multiply, ["real", "real"], lambda self, a, b: a * b),
    "_div": (np.divide, ["real", "nonzero"], lambda self, a, b: a / b),
    "_pow": (np.power, ["positive", "exponent"], lambda self, a, b: a**b),
    "_exp": (np.exp, ["real"], lambda self, a: np.exp(a)),
    "_log": (np.log, ["positive"], lambda self, a: np.log(a)),
    "_sin": (np.sin, ["real"], lambda self, a: np.sin(a)),
    "_cos": (np.cos, ["real"], lambda self, a: np.cos(a)),
    "_tanh": (np.tanh, ["real"], lambda self, a: np.tanh(a)),
    "_sigmoid": (lambda a: 1 / (1 + np.exp(-a)), ["real"], lambda self, a: 1 / (1 + np.exp(-a))),
    "_relu": (lambda a: np.maximum(a, 0.0), ["nonzero"], lambda self, a: np.maximum(a, 0.0)),
}


@pytest.mark.parametrize("graded", sorted(GRADED_OPS))
def test_no_kit_op_is_the_answer_to_a_graded_op(graded):
    """A graded op that subclasses a kit op, with the notebook's own func, earns nothing."""
    ns = engine()
    reference, domains, func = GRADED_OPS[graded]
    ops = gc.kit_ops(ns["AutogradValue"])
    for kit in ("atan", "asinh", "hypot", "atan2", "var"):
        answer = type(graded, (getattr(ops, kit),), {"func": func})
        with pytest.raises(CheckFailure):
            check_op(answer, reference, domains)
        assert both_ways(check_op, (answer, reference, domains),
                         (graded, None, None))[0] == "fail"


def _kit_helpers():
    """Every function and class graph_checks defines or imports (its internals)."""
    return [value for name, value in vars(gc).items()
            if not name.startswith("__") and (inspect.isfunction(value) or inspect.isclass(value))]


KIT_BACKWARD_PASSES = {
    "a kit node's own backward_pass": """\
def backward_pass(node):
    gc.kit_ops(AutogradValue).hypot.backward_pass(node)
""",
    "a kit node's class as the node's class": """\
def backward_pass(node):
    kit = gc.kit_ops(AutogradValue, lambda n: None)
    for parent in node.parents:
        if isinstance(parent, AutogradValue):
            kit.var.backward_pass(parent)
    kit.atan2.backward_pass(node)
""",
    "every helper of graph_checks called with the node": """\
def backward_pass(node):
    for helper in HELPERS:
        for args in ((node,), (node, AutogradValue), (node, AutogradValue, node)):
            try:
                helper(*args)
            except BaseException:
                pass
""",
}


@pytest.mark.parametrize("name", sorted(KIT_BACKWARD_PASSES))
def test_a_backward_pass_made_of_kit_internals_earns_nothing(name):
    ns = engine(backward_pass="def backward_pass(node):\n    raise NotImplementedError()\n")
    ns.update(gc=gc, HELPERS=_kit_helpers())
    exec(KIT_BACKWARD_PASSES[name], ns)
    # (a nested check records extra steps in the grader's kernel: the replay fails on those)
    outcome, message = both_ways(gc.check_backward_pass, (ns["backward_pass"], ns["AutogradValue"]),
                                 BACKWARD_PASS_NAMES, agree=False)
    assert outcome == "fail", message


def test_the_kit_ops_grads_are_their_funcs_derivatives():
    rng = np.random.default_rng(0)
    for name, (func, grads, _) in gc._OPS.items():
        n = func.nin
        inputs = [rng.uniform(0.5, 2.0, 5) * rng.choice([-1, 1], 5) for _ in range(n)]
        for i, partial in enumerate(grads(*inputs)):
            assert np.allclose(partial, finite_difference_partial(func, inputs, i, None),
                               rtol=1e-6, atol=1e-9), name


# ----------------------------------------------------------------------------- tampered answers


def _both_exercises(backward_pass, backward, base):
    gc.check_backward_pass(backward_pass, base)
    gc.check_backward_shapes(backward, base)
    gc.check_long_chain(backward, base, length=2000)
    gc.check_second_call(backward, base)


NAMES = ("backward_pass", "backward", "AutogradValue")


def _graded_with(tamper):
    ns = engine()
    return graded(_both_exercises, (ns["backward_pass"], ns["backward"], ns["AutogradValue"]),
                  NAMES, tamper)


def test_untampered_answers_pass_and_the_requests_carry_no_expected_value():
    outcome, kernel = _graded_with(None)
    assert outcome == ("pass", "")
    assert len(kernel.requests) == 13
    sent = json.dumps(kernel.requests)
    assert "seed" not in sent  # the checks' location texts name seeds; requests do not
    for request in kernel.requests:
        assert set(request) == {"probe", "args"}
        assert request["probe"].startswith("coursekit.reverse_checks:")


def _decoded(reply):
    return core.decode(reply["value"])


def _replace(reply, value):
    return {"value": core.encode(value)}


def test_one_changed_value_fails():
    def push(index, request, reply):
        if request["probe"].endswith(":push_at") and index == 0:
            pushed = _decoded(reply)
            pushed[1] = pushed[1] + 0.01
            return _replace(reply, pushed)
        return reply
    assert _graded_with(push)[0][0] == "fail"
    for change in ("order", "seed", "calls"):
        def run(index, request, reply, change=change):
            if not request["probe"].endswith(":watched_runs"):
                return reply
            [run_data] = _decoded(reply)[:1]
            order, grads, final, calls = run_data
            if change == "order":
                order[[0, 1]] = order[[1, 0]]
            elif change == "seed":
                grads[0, -1] = 0.0
            else:
                calls = calls + 1
                order = np.append(order, order[-1])
                grads = np.vstack([grads, grads[-1]])
            return _replace(reply, [[order, grads, final, calls]] + _decoded(reply)[1:])
        assert _graded_with(run)[0][0] == "fail", change

    def chain(index, request, reply):
        if request["probe"].endswith(":chain_at"):
            summary = _decoded(reply)
            summary[0] = 1999
            return _replace(reply, summary)
        return reply
    assert _graded_with(chain)[0][0] == "fail"


@pytest.mark.parametrize("how", ["error", "wrong_type", "malformed", "not_finite", "huge",
                                 "extra_key", "wrong_dtype"])
def test_every_tampered_answer_fails(how):
    """Whichever request gets the bad answer, the cell fails (never passes, never crashes)."""
    for target in range(13):
        def tamper(index, request, reply, target=target):
            if index != target:
                return reply
            if how == "error":
                return {"error": ["ValueError", "made up"]}
            if how == "wrong_type":
                return {"value": "all good"}
            if how == "malformed":
                return {"value": {"~nd": ["<f8", [3], "%%%"]}}
            if how == "extra_key":
                return {**reply, "verdict": "passed"}
            value = _decoded(reply)
            def change(v):
                if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                    if how == "wrong_dtype":
                        return v.astype(np.int64)
                    return np.full_like(v, np.inf if how == "not_finite" else 1e308)
                if isinstance(v, float):
                    return float("inf") if how == "not_finite" else 1e308
                if isinstance(v, list):
                    return [change(item) for item in v]
                return v
            return _replace(reply, change(value))
        outcome, _ = _graded_with(tamper)
        assert outcome[0] == "fail", (how, target)


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
    parents = program.parents()
    assert len(parents) == len(program.node_labels()) == program.n_inputs + len(program.steps)


def test_some_random_program_uses_a_node_twice_in_one_op():
    assert any(
        len(refs) == 2 and refs[0] == refs[1]
        for seed in range(10)
        for _, refs in gc.random_program(seed).steps
    )


def test_the_kits_graph_computes_the_programs_values():
    ns = engine()
    base = ns["AutogradValue"]
    for seed in range(5):
        program = gc.random_program(seed)
        variables = [base(float(v)) for v in program.point]
        nodes = program.build(gc.kit_ops(base), variables)
        assert np.allclose([n.value for n in nodes], program.values(*program.point))


# ----------------------------------------------------------------------------- the max gate


def max_gate(source):
    ns = engine()
    exec(source, ns)
    return ns["_max"], ns["AutogradValue"]


def max_cell(op, base):
    """The grade cell of notebook 04's Exercise 3, visible and hidden tests."""
    for seed in (0, 1, 2):
        gc.check_max_gate(op, base, seed=seed)


@pytest.mark.parametrize("name", sorted(EXERCISES["_max"]["correct"]))
def test_a_correct_max_gate_passes_both_ways(name):
    op, base = max_gate(EXERCISES["_max"]["correct"][name])
    assert both_ways(max_cell, (op, base), ("_max", "AutogradValue")) == ("pass", "")


@pytest.mark.parametrize("name", sorted(EXERCISES["_max"]["bugs"]))
def test_a_wrong_max_gate_fails_both_ways_with_its_hint(name):
    op, base = max_gate(EXERCISES["_max"]["bugs"][name])
    outcome, message = both_ways(max_cell, (op, base), ("_max", "AutogradValue"))
    assert outcome == "fail"
    from tests.notebooks.variants.v04_reverse_mode import MAX_VARIANTS
    assert MAX_VARIANTS["bugs"][name][1] in message, message


def test_a_max_gate_stub_is_not_implemented_both_ways():
    op, base = max_gate("class _max(AutogradValue):\n"
                        "    def func(self, a, b):\n        return np.maximum(a, b)\n"
                        "    def grads(self, a, b):\n        raise NotImplementedError()\n")
    assert both_ways(max_cell, (op, base), ("_max", "AutogradValue")) == ("todo", "")


def test_a_max_gate_made_of_kit_internals_earns_nothing():
    """A `_max` whose grads are any kit op's, or any helper of reverse_checks called with the
    inputs, fails: nothing in the module computes a max gate's partials."""
    ns = engine()
    ops = gc.kit_ops(ns["AutogradValue"])
    for kit in ("atan", "asinh", "hypot", "atan2", "var"):
        op = type("_max", (getattr(ops, kit),), {"func": lambda self, a, b: np.maximum(a, b)})
        assert both_ways(max_cell, (op, ns["AutogradValue"]), ("_max", "AutogradValue"),
                         agree=False)[0] == "fail"
    helpers = _kit_helpers()

    def grads(self, a, b):
        for helper in helpers:
            for args in ((a, b), (a,), (self, a, b)):
                try:
                    result = helper(*args)
                except BaseException:  # noqa: BLE001
                    continue
                if isinstance(result, tuple) and len(result) == 2:
                    return result
        return 0.0, 0.0

    op = type("_max", (ns["AutogradValue"],), {"func": lambda self, a, b: np.maximum(a, b),
                                               "grads": grads})
    assert both_ways(max_cell, (op, ns["AutogradValue"]), ("_max", "AutogradValue"),
                     agree=False)[0] == "fail"


def test_a_tampered_max_gate_answer_fails():
    op, base = max_gate(EXERCISES["_max"]["correct"]["nested_where_half"])

    def whole_gradient_to_both(index, request, reply):
        return {"value": [core.encode(np.ones_like(core.decode(v))) for v in reply["value"]]}

    outcome, _ = graded(max_cell, (op, base), ("_max", "AutogradValue"), whole_gradient_to_both)
    assert outcome[0] == "fail"


def test_notebook_05s_given_engine_is_no_answer_to_04s_backward():
    """05 gives its array engine in full; its `backward` must not hand over 04's Exercise 2.
    It orders nodes by the stamp 05's Tensor gets when it is made, which 04's AutogradValue
    does not have: taken over with only the names changed, it earns none of the points."""
    master = json.loads((REPO / "solutions/05-mlp-backprop/mlp_backprop.ipynb").read_text())
    given = next("".join(c["source"]) for c in master["cells"]
                 if c["metadata"]["nbgrader"]["grade_id"] == "engine_backward")
    assert "def topological_order" not in given and "parents_done" not in given
    taken_over = given.split("# Operators and methods")[0].replace("Tensor", "AutogradValue")
    taken_over = taken_over.replace(
        "np.zeros_like(node.value)", "0.0").replace("np.ones_like(output.value)", "1.0")
    ns = engine(backward="def backward(output):\n    pass\n")
    exec(taken_over, ns)
    outcome, _ = run_cell(backward_cell, ns["backward"], ns["AutogradValue"])
    assert outcome == "fail"


def test_a_max_gate_that_asks_the_judge_earns_nothing_where_the_grade_is_made():
    """`grads` that tries candidate partials on the kit's judgement and keeps one it does not
    reject: a check refuses to judge inside the code it checks, in the student's Jupyter and
    in the grading kernel alike, so it learns nothing."""
    ns = engine()

    def grads(self, a, b):
        shape = np.shape(a)
        best = None
        for first in (1.0, 0.0, 0.5):
            candidate = [np.full(shape, first), np.full(shape, 1.0 - first)]
            try:
                gc._judge_max(candidate, a, b, "")
            except CheckFailure:
                continue
            best = candidate
            break
        return tuple(best) if best is not None else (np.zeros(shape), np.zeros(shape))

    op = type("_max", (ns["AutogradValue"],), {"func": lambda self, a, b: np.maximum(a, b),
                                               "grads": grads})
    assert both_ways(max_cell, (op, ns["AutogradValue"]), ("_max", "AutogradValue"),
                     agree=False)[0] == "fail"
