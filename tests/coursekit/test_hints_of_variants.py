"""The typical bugs of tests/notebooks/variants/ get the hint that names them.

tests/notebooks/test_variants.py only asks that a bug fails; here the same sources are run
against the checks directly, and the sentence a student reads is pinned.
"""

from __future__ import annotations

import numpy as np
import pytest
from coursekit.chain_rule_checks import check_backward
from coursekit.checks import CheckFailure, check_op, check_vjp
from coursekit.reverse_checks import check_max_gate

from tests.notebooks.variants import (
    v02_chain_rule,
    v03_forward_mode,
    v04_reverse_mode,
    v05_mlp_backprop,
)


class _Node:
    """A stand-in base class: the constructor stores the value, as 04's AutogradValue does."""

    def __init__(self, *args, **settings):
        self.__dict__.update(settings)
        self.value = self.func(*args)


class _Value:
    """04's AutogradValue in miniature: a node of the values of its parents."""

    def __init__(self, *args):
        self.parents = args
        self.parent_values = [a.value if isinstance(a, _Value) else a for a in args]
        self.value = self.func(*self.parent_values)

    def func(self, value):
        return value


def define(source: str, name: str):
    namespace = {"np": np, "AutogradValue": _Node, "ForwardValue": _Node, "Tensor": _Node}
    exec(source, namespace)  # noqa: S102  (the repository's own variant sources)
    return namespace[name]


def bug(module, exercise: str, variant: str) -> str:
    return module.EXERCISES[exercise]["bugs"][variant]


def test_02_overwritten_path_is_reported_as_half():
    student = define(bug(v02_chain_rule, "backward_reused", "overwrites_da"), "backward_reused")
    with pytest.raises(CheckFailure, match="exactly half the expected value"):
        check_backward(student, lambda x: x**2 * (5 * x**2), ["x"], "`backward_reused`",
                       point=[1.5])


@pytest.mark.parametrize("variant", ["missing_inner_factor", "missing_factor_two"])
def test_02_nll_missing_factor_is_not_called_a_sign_error_at_the_worked_point(variant):
    student = define(bug(v02_chain_rule, "backward_nll", variant), "backward_nll")
    with pytest.raises(CheckFailure) as failure:
        check_backward(student, lambda w, x: -np.log(1 / (1 + np.exp(-w * x**2))), ["w", "x"],
                       "`backward_nll`", point=[0.8, 1.5])
    assert "sign" not in str(failure.value)
    if variant == "missing_factor_two":
        assert "exactly half" in str(failure.value)


def test_pow_missing_ln_a_is_told_which_factor():
    op = define(bug(v03_forward_mode, "_pow", "missing ln a"), "_pow")
    with pytest.raises(CheckFailure, match=r"second input \(b\).*a factor ln a is missing"):
        check_op(op, np.power, ["positive", "real"])


@pytest.mark.parametrize("variant", sorted(v04_reverse_mode.MAX_VARIANTS["bugs"]))
def test_04_max_gate_bugs_get_their_hint(variant):
    namespace = {"np": np, "AutogradValue": _Value}
    exec(bug(v04_reverse_mode, "_max", variant), namespace)  # noqa: S102
    words = v04_reverse_mode.MAX_VARIANTS["bugs"][variant][1]
    with pytest.raises(CheckFailure) as failure:
        for seed in (0, 1, 2):
            check_max_gate(namespace["_max"], _Value, seed=seed)
    assert words in str(failure.value), str(failure.value)


@pytest.mark.parametrize("exercise, variant, reference, shapes, domains", [
    ("_relu", "forgets g", lambda x: np.maximum(x, 0.0), [(3, 4)], ["away_from_zero"]),
    ("_sum", "forgets the upstream gradient", np.sum, [(3, 4)], None),
    ("_matmul", "forgot the upstream gradient", np.matmul, [(3, 4), (4, 2)], None),
])
def test_05_vjp_without_the_upstream_gradient_is_told_so(exercise, variant, reference, shapes,
                                                        domains):
    op = define(bug(v05_mlp_backprop, exercise, variant), exercise)
    with pytest.raises(CheckFailure, match="upstream gradient of all ones"):
        check_vjp(op, reference, shapes, domains)


def test_02_a_missing_input_factor_is_named_even_where_the_ratio_is_a_half():
    """`dx = db * 2` for log(x**2) at x = 2 is exactly half: the missing factor is x."""
    student = define("def backward_log_square(x):\n    b = x ** 2\n    a = np.log(b)\n"
                     "    da = 1.0\n    db = da / b\n    dx = db * 2\n    return (dx,)\n",
                     "backward_log_square")
    with pytest.raises(CheckFailure, match="a factor x is missing") as failure:
        check_backward(student, lambda x: np.log(x**2), ["x"], "`backward_log_square`",
                       point=[2.0])
    assert "used twice" not in str(failure.value)


def test_02_a_max_routed_to_both_inputs_is_told_the_smaller_gets_nothing():
    student = define(bug(v02_chain_rule, "backward_gates", "max_to_both"), "backward_gates")
    with pytest.raises(CheckFailure, match="only the larger input gets the gradient") as failure:
        check_backward(student, lambda x, y, z, w: (x * y + np.maximum(z, w)) * x,
                       ["x", "y", "z", "w"], "`backward_gates`", point=[3.0, -4.0, 2.0, -1.0])
    assert "check the order" not in str(failure.value)


def test_05_a_sum_instead_of_a_mean_is_told_so():
    from coursekit.network_checks import check_value_and_grad

    def plain(logits, labels):
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return -np.log(probs[np.arange(len(labels)), labels]).mean()

    def summed(logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(labels)
        grad = np.exp(log_probs)
        grad[np.arange(n), labels] -= 1
        return -log_probs[np.arange(n), labels].sum(), grad

    logits = np.random.default_rng(5).normal(size=(4, 3))
    with pytest.raises(CheckFailure, match="exactly 4 times the expected loss"):
        check_value_and_grad(summed, plain, logits, np.array([0, 2, 1, 1]),
                             what="softmax_cross_entropy", where="logits of shape (4, 3)")


def test_05_the_visible_test_shows_what_the_hidden_one_punishes_in_a_global_max_softmax():
    """A softmax that subtracts the global maximum survives `logits + 1000` but not rows far
    apart; the visible test has such rows, with the row-wise hint."""
    import json

    from coursekit.network_checks import check_value_and_grad

    from tests.notebooks.kernel import ROOT

    master = json.loads((ROOT / "solutions/05-mlp-backprop/mlp_backprop.ipynb").read_text())
    source = next("".join(c["source"]) for c in master["cells"] if c["metadata"].get(
        "nbgrader", {}).get("grade_id") == "test_softmax_cross_entropy")
    visible = source.split("### BEGIN HIDDEN TESTS")[0]
    student = define(bug(v05_mlp_backprop, "softmax_cross_entropy",
                         "subtracts the global maximum"), "softmax_cross_entropy")
    with pytest.raises(CheckFailure, match="subtract each row's maximum"):
        exec(visible, {"np": np, "check_value_and_grad": check_value_and_grad,  # noqa: S102
                       "softmax_cross_entropy": student, "print": print})
