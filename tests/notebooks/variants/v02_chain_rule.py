"""Variants for 02-chain-rule: correct alternatives that must pass, typical bugs that must fail.

Every variant keeps the exercise's signature and forward lines, as a student would.
"""

LOG_SQUARE = (
    "def backward_log_square(x):\n"
    "    b = x ** 2\n"
    "    a = np.log(b)\n"
)
REUSED = (
    "def backward_reused(x):\n"
    "    a = x ** 2\n"
    "    b = 5 * a\n"
    "    c = a * b\n"
)
NLL = (
    "def backward_nll(w, x):\n"
    "    a = x ** 2\n"
    "    b = w * a\n"
    "    c = 1 / (1 + np.exp(-b))\n"
    "    g = np.log(c)\n"
    "    L = -g\n"
)
ADD_MUL = (
    "def backward_add_mul(x, y, z):\n"
    "    q = x + y\n"
    "    f = q * z\n"
)
NEURON = (
    "def backward_neuron(w0, x0, w1, x1, w2):\n"
    "    p0 = w0 * x0\n"
    "    p1 = w1 * x1\n"
    "    s = p0 + p1 + w2\n"
    "    n = -s\n"
    "    e = np.exp(n)\n"
    "    d = 1 + e\n"
    "    f = 1 / d\n"
)
GATES = (
    "def backward_gates(x, y, z, w):\n"
    "    s = x * y\n"
    "    m = max(z, w)\n"
    "    q = s + m\n"
    "    f = q * x\n"
)
THREE = (
    "def backward_three_terms(x, z):\n"
    "    a = x * z\n"
    "    b = np.exp(a)\n"
    "    c = np.log(x)\n"
    "    d = a / c\n"
    "    e = np.sin(c)\n"
    "    f = e / a\n"
    "    y = b + d + f\n"
)


def body(head: str, *lines: str) -> str:
    return head + "".join(f"    {line}\n" for line in lines)


EXERCISES = {
    "backward_log_square": {
        "correct": {
            "simplified": body(LOG_SQUARE, "return (2 / x,)"),
            "list_and_numpy": body(LOG_SQUARE, "da = np.float64(1)", "db = da * (1 / b)",
                                   "return [db * (x + x)]"),
            "chain_in_one_line": body(LOG_SQUARE, "dx = (1 / b) * (2 * x)", "return (dx,)"),
        },
        "bugs": {
            "missing_chain_factor": body(LOG_SQUARE, "return (1 / b,)"),
            "only_inner_derivative": body(LOG_SQUARE, "return (2 * x,)"),
            "wrong_sign": body(LOG_SQUARE, "return (-2 / x,)"),
            "derivative_of_log_x": body(LOG_SQUARE, "return (1 / x,)"),
            "not_a_tuple": body(LOG_SQUARE, "return 2 / x"),
        },
    },
    "backward_reused": {
        "correct": {
            "closed_form": body(REUSED, "return (20 * x ** 3,)"),
            "total_derivative_first": body(REUSED, "dc_da = b + a * 5", "return [dc_da * 2 * x]"),
            "other_order": body(REUSED, "dc = 1.0", "db = dc * a", "da = db * 5",
                                "da = da + dc * b", "return (da * 2 * x,)"),
        },
        "bugs": {
            "overwrites_da": body(REUSED, "dc = 1.0", "da = dc * b", "db = dc * a",
                                  "da = db * 5", "return (da * 2 * x,)"),
            "partial_only": body(REUSED, "return (b * 2 * x,)"),
            "missing_inner_factor": body(REUSED, "return (10 * a,)"),
            "double_counts": body(REUSED, "da = b + a * 5 + b", "return (da * 2 * x,)"),
            "wrong_sign": body(REUSED, "return (-20 * x ** 3,)"),
        },
    },
    "backward_nll": {
        "correct": {
            "sigmoid_shortcut": body(NLL, "db = c - 1", "return db * a, db * w * 2 * x"),
            "list_result": body(NLL, "dL = 1.0", "dg = -dL", "dc = dg / c",
                                "db = dc * c * (1 - c)", "return [db * a, db * w * 2 * x]"),
            "closed_form": body(NLL, "s = 1 / (1 + np.exp(w * x ** 2))",
                                "return -s * x ** 2, -s * 2 * w * x"),
        },
        "bugs": {
            "forgets_minus": body(NLL, "db = 1 - c", "return db * a, db * w * 2 * x"),
            "swapped": body(NLL, "db = c - 1", "return db * w * 2 * x, db * a"),
            "missing_sigmoid_factor": body(NLL, "db = -1 / c", "return db * a, db * w * 2 * x"),
            "missing_inner_factor": body(NLL, "db = c - 1", "return db * a, db * w"),
            "uses_x_not_a": body(NLL, "db = c - 1", "return db * x, db * w * 2 * x"),
            "missing_factor_two": body(NLL, "db = c - 1", "return db * a, db * w * x"),
        },
    },
    "backward_add_mul": {
        "correct": {
            "direct": body(ADD_MUL, "return z, z, q"),
            "list": body(ADD_MUL, "return [z, z, x + y]"),
            "numpy_floats": body(ADD_MUL, "g = np.float64(1.0)",
                                 "return g * z, g * z, g * (x + (-(-y)))"),
        },
        "bugs": {
            "mul_not_swapped": body(ADD_MUL, "return z, z, z"),
            "add_gate_multiplies": body(ADD_MUL, "return z * y, z * x, q"),
            "swapped_order": body(ADD_MUL, "return q, z, z"),
            "ignores_upstream": body(ADD_MUL, "return 1.0, 1.0, q"),
            "wrong_sign": body(ADD_MUL, "return -z, -z, q"),
        },
    },
    "backward_neuron": {
        "correct": {
            "sigmoid_shortcut": body(NEURON, "ds = f * (1 - f)",
                                     "return ds * x0, ds * w0, ds * x1, ds * w1, ds"),
            "list": body(NEURON, "ds = e / d ** 2",
                         "return [x0 * ds, w0 * ds, x1 * ds, w1 * ds, 1.0 * ds]"),
            "numpy_array": body(NEURON, "ds = f * (1 - f)",
                                "return np.array([x0, w0, x1, w1, 1.0]) * ds"),
        },
        "bugs": {
            "not_swapped": body(NEURON, "ds = f * (1 - f)",
                                "return ds * w0, ds * x0, ds * w1, ds * x1, ds"),
            "missing_local_gradient": body(NEURON, "return x0, w0, x1, w1, 1.0"),
            "sign_of_exp": body(NEURON, "ds = -e / d ** 2",
                                "return ds * x0, ds * w0, ds * x1, ds * w1, ds"),
            "bias_ignored": body(NEURON, "ds = f * (1 - f)",
                                 "return ds * x0, ds * w0, ds * x1, ds * w1, 0.0"),
            "sigmoid_not_derivative": body(NEURON, "ds = f",
                                           "return ds * x0, ds * w0, ds * x1, ds * w1, ds"),
            "inputs_out_of_order": body(
                NEURON, "ds = f * (1 - f)", "return ds * x0, ds * x1, ds * w0, ds * w1, ds"),
        },
    },
    "backward_gates": {
        "correct": {
            "closed_form": body(GATES, "dz, dw = (x, 0.0) if z > w else (0.0, x)",
                                "return q + x * y, x * x, dz, dw"),
            "numpy_router": body(GATES, "dq = x", "dz = dq * float(z >= w)",
                                 "dw = dq * float(w > z)",
                                 "return [q + dq * y, dq * x, dz, dw]"),
            "branch_sum_last": body(GATES, "dx_from_f = q", "dx_from_s = x * y",
                                    "route = np.argmax([z, w])",
                                    "return (dx_from_s + dx_from_f, x ** 2,"
                                    " x * (route == 0), x * (route == 1))"),
        },
        "bugs": {
            "forgets_copy": body(GATES, "dz, dw = (x, 0.0) if z > w else (0.0, x)",
                                 "return x * y, x * x, dz, dw"),
            "max_to_both": body(GATES, "return q + x * y, x * x, x, x"),
            "max_to_smaller": body(GATES, "dz, dw = (0.0, x) if z > w else (x, 0.0)",
                                   "return q + x * y, x * x, dz, dw"),
            "mul_not_swapped": body(GATES, "dz, dw = (x, 0.0) if z > w else (0.0, x)",
                                    "return q + x * x, x * y, dz, dw"),
            "max_to_first_always": body(GATES, "return q + x * y, x * x, x, 0.0"),
            "copy_overwrites": body(GATES, "dz, dw = (x, 0.0) if z > w else (0.0, x)",
                                    "return q, x * x, dz, dw"),
        },
    },
    "backward_three_terms": {
        "correct": {
            "closed_form": body(
                THREE,
                "L = np.log(x)",
                "dx = (z * np.exp(x * z) + z / L - z / L ** 2"
                " + np.cos(L) / (x * x * z) - np.sin(L) / (x * x * z))",
                "dz = x * np.exp(x * z) + x / L - np.sin(L) / (x * z * z)",
                "return dx, dz",
            ),
            "grouped_by_term": body(
                THREE,
                "da = b + 1 / c - e / a ** 2",
                "dc = -a / c ** 2 + np.cos(c) / a",
                "return [da * z + dc / x, da * x]",
            ),
            "staged_other_order": body(
                THREE,
                "da = b",
                "da += 1 / c",
                "dc = -a / c ** 2",
                "de = 1 / a",
                "da -= e / a ** 2",
                "dc += de * np.cos(c)",
                "return np.float64(da * z + dc / x), np.float64(da * x)",
            ),
        },
        "bugs": {
            "forgets_path_through_log": body(
                THREE, "da = b + 1 / c - e / a ** 2", "return da * z, da * x"),
            "quotient_sign": body(
                THREE, "da = b + 1 / c + e / a ** 2", "dc = -a / c ** 2 + np.cos(c) / a",
                "return da * z + dc / x, da * x"),
            "overwrites_da": body(
                THREE, "da = b", "dc = -a / c ** 2 + np.cos(c) / a",
                "return da * z + dc / x, da * x"),
            "swapped": body(
                THREE, "da = b + 1 / c - e / a ** 2", "dc = -a / c ** 2 + np.cos(c) / a",
                "return da * x, da * z + dc / x"),
            "log_derivative_wrong": body(
                THREE, "da = b + 1 / c - e / a ** 2", "dc = -a / c ** 2 + np.cos(c) / a",
                "return da * z + dc * x, da * x"),
        },
    },
}
