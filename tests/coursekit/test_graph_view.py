"""The graph view reads the student's objects, lays them out by level, and replays the
student's own backward (recorded, never recomputed)."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from autodiff.forward import ForwardValue  # noqa: E402
from autodiff.reverse import AutogradValue  # noqa: E402
from autodiff.tensor import Tensor  # noqa: E402
from coursekit import graph_view as gv  # noqa: E402


def shared_graph():
    """Notebook 04's example: a = x**2 is used twice, by b and by c."""
    x = AutogradValue(1.5)
    a = x**2
    b = 5 * a
    c = a.log()
    g = b * c
    L = -g
    return locals()


class Node:
    """A tiny duck-typed reverse-mode class: value, parents, grad, grads, backward_pass."""

    def __init__(self, value, *parents, local=()):
        self.value, self.parents, self.local, self.grad = value, parents, local, 0.0

    def grads(self):
        return self.local

    def backward_pass(self):
        for parent, local in zip(self.parents, self.grads()):
            parent.grad = parent.grad + self.grad * local


def test_levels_put_each_node_right_of_its_inputs():
    ns = shared_graph()
    graph = gv.graph_of(ns["L"], names=ns)
    level = {graph.name(n): graph.level[id(n)] for n in graph.nodes}
    assert level == {"x": 0, "a": 1, "b": 2, "c": 2, "g": 3, "L": 4}
    for node in graph.nodes:
        for parent in graph.parents(node):
            assert graph.position[id(parent)][0] < graph.position[id(node)][0]
    assert [graph.name(n) for n in graph.nodes][0] == "x"  # topological: inputs first


def test_labels_use_the_prose_names_ops_and_constants():
    ns = shared_graph()
    graph = gv.graph_of(ns["L"], names=ns)
    expressions = {graph.expression(n) for n in graph.nodes}
    assert expressions == {"x  (input)", "a = x ** 2", "b = 5 × a", "c = log(a)",
                           "g = b × c", "L = −g"}
    by_node = gv.graph_of(ns["L"], names={ns["a"]: "shared"})
    assert by_node.name(ns["a"]) == "shared" and by_node.name(ns["x"]) == "t1"


def test_the_backward_trace_records_the_students_updates_in_order():
    ns = shared_graph()
    graph = gv.graph_of(ns["L"], names=ns)
    trace = gv.trace_backward(ns["L"], graph=graph)
    updates = [(graph.name(r.node), graph.name(u.target)) for r in trace.runs for u in r.updates]
    assert updates == [("L", "g"), ("g", "b"), ("g", "c"), ("b", "a"), ("c", "a"), ("a", "x")]
    into_a = [u for r in trace.runs for u in r.updates if u.target is ns["a"]]
    assert into_a[0].before == 0 and into_a[1].before == pytest.approx(into_a[0].after)
    assert into_a[0].local == 5 and into_a[0].runner_grad == pytest.approx(-np.log(2.25))
    assert trace.final[id(ns["x"])] == pytest.approx(ns["x"].grad)
    # every node has its own class back
    assert type(ns["L"]).__module__ == "autodiff.reverse" and type(ns["L"]).__name__ == "_neg"
    assert "grad" not in type(ns["a"]).__dict__


def test_the_step_text_says_what_is_added_to_which_parent():
    ns = shared_graph()
    stepper = gv.graph_stepper(ns["L"], names=ns)
    texts = [s.text for s in stepper.steps]
    assert texts[1] == "forward pass: a = x ** 2  →  2.25"
    assert any(t.startswith("c runs: a.grad += c.grad × ∂c/∂a = -11.25 × 0.4444") for t in texts)
    arrows = [(stepper.graph.name(s.arrow[0]), stepper.graph.name(s.arrow[1]))
              for s in stepper.steps if s.arrow]
    assert ("c", "a") in arrows and ("a", "x") in arrows


def test_a_duck_typed_class_and_an_overwrite_bug_are_traced():
    x = Node(2.0)
    y = Node(3.0)
    m = Node(6.0, x, y, local=(3.0, 2.0))
    s = Node(8.0, m, x, local=(1.0, 1.0))  # x used twice: by m and by s

    def overwriting_backward(out):  # the typical bug: = instead of +=
        for node in (s, m, x, y):
            node.grad = 0.0
        out.grad = 1.0
        for node in (s, m):
            for parent, local in zip(node.parents, node.grads()):
                parent.grad = node.grad * local

    graph = gv.graph_of(s, names=locals())
    trace = gv.trace_backward(s, overwriting_backward, graph=graph)
    texts = [step.text for step in gv.backward_steps(graph, trace)]
    assert "m runs: x.grad = m.grad × ∂m/∂x = 1 × 3: overwritten, it was 1" in texts[3]
    assert x.grad == 3.0 and type(x) is Node


def test_the_naive_walk_visits_the_shared_node_twice():
    ns = shared_graph()
    graph = gv.graph_of(ns["L"], names=ns)
    visits = [graph.name(n) for n in gv.naive_walk_visits(ns["L"])]
    assert visits == ["L", "g", "b", "a", "x", "c", "a", "x"]
    order = [graph.name(n) for n in gv.reverse_topological_order(ns["L"])]
    assert sorted(order) == sorted(set(visits)) and order[0] == "L" and order[-1] == "x"
    assert order.index("a") > max(order.index("b"), order.index("c"))


def test_the_students_recursive_walk_is_recorded_with_its_double_count():
    ns = shared_graph()

    def push_and_recurse(node):
        for parent, local in zip(node.parents, node.grads(*node.parent_values)):
            if isinstance(parent, AutogradValue):
                parent.grad = parent.grad + node.grad * local
                push_and_recurse(parent)

    def naive(out):
        out.grad = 1.0
        push_and_recurse(out)

    stepper = gv.walk_stepper(ns["L"], names=ns, naive=naive, backward="auto")
    texts = [s.text for s in stepper.steps]
    assert any("a runs (2nd turn!): x.grad +=" in t for t in texts)
    assert texts[-1].endswith("dL/dx = x.grad = -27.16")
    structural = gv.walk_stepper(ns["L"], names=ns)
    assert any("a — visited 2 times!" in s.text for s in structural.steps)


def test_forward_mode_shows_tangents_and_tensor_graphs_draw():
    x, w = ForwardValue(1.5), ForwardValue(0.8)
    L = (w * x**2).sigmoid()
    graph = gv.graph_of(L, names=locals())
    assert {v for v, _ in graph.tangents(L)} == {"x", "w"}
    stepper = gv.graph_stepper(L, names=locals())  # no backward: the forward pass only
    assert all(s.phase == "forward" for s in stepper.steps) and stepper.trace is None
    assert "∂L/∂x = " in stepper.steps[-1].text

    X = Tensor(np.arange(6.0).reshape(3, 2))
    W = Tensor(np.ones((2, 2)) * 0.5, requires_grad=True)
    loss = (X @ W).relu().sum()
    stepper = gv.graph_stepper(loss, names=locals())
    assert np.allclose(stepper.trace.final[id(W)], W.grad)
    assert any(s.arrow and s.arrow[1] is W for s in stepper.steps)


def test_a_class_without_parents_is_read_from_a_recorded_forward_pass():
    class Value:  # like notebook 03's ForwardValue: keeps values, not parents
        def __init__(self, *args):
            self.value = sum(a.value if isinstance(a, Value) else a for a in args)

    with pytest.raises(TypeError, match="record_forward"):
        gv.graph_of(Value(Value(1.0), 2.0))
    with gv.record_forward(Value) as tape:
        x = Value(1.0)
        y = Value(x, 2.0)
    assert Value.__init__.__name__ == "__init__" and "recording" not in Value.__init__.__qualname__
    graph = gv.graph_of(y, names=locals(), tape=tape)
    assert [graph.name(n) for n in graph.nodes] == ["x", "y"]
    assert graph.expression(y) == "y = value(x, 2)"


def test_the_widget_redraws_when_stepped_and_never_waits():
    import time

    ns = shared_graph()
    start = time.perf_counter()
    stepper = gv.graph_stepper(ns["L"], names=ns)
    assert time.perf_counter() - start < 5
    first = bytes(stepper.image.value)
    assert first.startswith(b"\x89PNG") and stepper.draws == 1
    stepper.next_button.click()
    assert stepper.slider.value == 1 and bytes(stepper.image.value) != first
    stepper.prev_button.click()
    assert bytes(stepper.image.value) == first
    stepper.prev_button.click()  # clipped at the first step
    assert stepper.slider.value == 0
    stepper.slider.value = len(stepper.steps) - 1
    assert "backward done" in stepper.caption.value


def test_draw_graph_view_shows_the_grads_the_nodes_hold():
    import matplotlib

    matplotlib.use("Agg")
    ns = shared_graph()
    ns["L"].backward()
    ax = gv.draw_graph_view(ns["L"], names=ns)
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("a = x ** 2\nvalue 2.25\ngrad -9.055") for t in texts)


@pytest.mark.notebooks
def test_a_headless_kernel_runs_the_widget_cells_at_once():
    """As nbgrader runs a notebook: a kernel with no front end must not wait for the widget."""
    import time

    nbclient = pytest.importorskip("nbclient")
    import nbformat

    source = ("from autodiff.reverse import AutogradValue\n"
              "from coursekit.graph_view import graph_stepper, walk_stepper\n"
              "x = AutogradValue(1.5); a = x ** 2; L = -(5 * a) * a.log()\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source),
                nbformat.v4.new_code_cell("graph_stepper(L, names=locals())"),
                nbformat.v4.new_code_cell("walk_stepper(L, names=locals())")]
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert time.perf_counter() - start < 45
    for cell in nb.cells[1:]:
        kinds = {o.output_type for o in cell.outputs}
        assert "error" not in kinds and not any(o.get("name") == "stderr" for o in cell.outputs)
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for o in cell.outputs)
