"""The graph view: your computational graph drawn from your own objects, and stepped through.

``draw_graph_view(L, names=locals())`` draws the graph that ends at ``L``, inputs on the left,
one column per topological level. Each box shows the name the prose uses (``a = x ** 2``), the
value, and the tangents (forward mode, ``forward_grads``) or the gradient (reverse mode,
``grad``). It works on any object with a ``value`` (or ``data``) and its inputs in ``parents``
(or ``_prev``): the ``ForwardValue`` of notebook 03, the ``AutogradValue`` of 04, the
``Tensor`` of 05, the reference engines, or a class of your own.

``graph_stepper(L, names=locals())`` is a widget that plays the forward pass node by node, then
your backward pass: which node runs and what it adds to which parent. The backward steps are a
recording of what *your* ``backward`` did: while it runs, every node of the graph is given, for
that call only, a recording subclass of its own class that notes each change of ``grad`` and
each call of ``grads``/``vjp``/``backward_pass``; afterwards every node gets its class back.
``walk_stepper(L)`` steps through the visits of a naive recursive walk (a shared node is
visited once per path) and then the reverse topological order (each node once).

Nothing here differentiates anything: the view only reads values your objects hold, or values
it is handed. The widget draws into an ``ipywidgets.Image`` (no ``Output`` capture), so building
it in a kernel without a front end (headless grading) returns at once.
"""

from __future__ import annotations

import contextlib
import io
import math
import numbers
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "BackwardTrace", "Graph", "GraphStepper", "Step", "Tape", "draw_graph_view", "graph_of",
    "graph_stepper", "naive_walk_visits", "record_forward", "reverse_topological_order",
    "trace_backward", "walk_stepper",
]

PARENT_ATTRIBUTES = ("parents", "_prev", "children")
VALUE_ATTRIBUTES = ("value", "data")
STUB = "NotImplementedError"  # what a trace keeps when the code it ran reached a stub
MAX_NODES = 60  # a bigger graph is no longer readable as a picture
# Infix spelling of the usual binary ops, by class name without leading underscores.
_INFIX = {"add": "+", "sub": "−", "mul": "×", "div": "/", "truediv": "/", "pow": "**",
          "matmul": "@"}
_PREFIX = {"neg": "−"}

# Colours: not yet run, done, running now, a gradient arriving.
_PENDING, _DONE, _CURRENT, _TARGET = "#eeeeee", "#fff7d6", "#ffb000", "#ffd8d0"
_FLOW = "#c8102e"


# ----------------------------------------------------------------------------------- reading

def _is_number(obj: Any) -> bool:
    return isinstance(obj, (numbers.Number, np.ndarray, np.generic, str, bytes))


def _value_of(node: Any) -> Any:
    for attribute in VALUE_ATTRIBUTES:
        if hasattr(node, attribute):
            return getattr(node, attribute)
    return None


def _is_node(obj: Any) -> bool:
    return not _is_number(obj) and not isinstance(obj, type) and any(
        hasattr(obj, attribute) for attribute in VALUE_ATTRIBUTES)


def _parents_attribute(node: Any) -> tuple[Any, ...] | None:
    for attribute in PARENT_ATTRIBUTES:
        parents = getattr(node, attribute, None)
        if parents is not None and not callable(parents):
            return tuple(parents)
    return None


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a, dtype=np.float64),
                                   np.asarray(b, dtype=np.float64)))
    except (TypeError, ValueError):
        return False


def _fmt(value: Any, digits: int = 4, compact: bool = False) -> str:
    """A short text for a number or an array (its shape, and unless compact its first entries)."""
    if value is None:
        return "—"
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return type(value).__name__
    if array.ndim == 0:
        number = float(array)
        if number == 0:
            return "0"
        return f"{number:.{digits}g}"
    flat = array.ravel()
    if compact and flat.size > 2:
        return f"shape {array.shape}"
    shown = " ".join(f"{v:.2g}" for v in flat[:3])
    more = " …" if flat.size > 3 else ""
    return f"{array.shape} [{shown}{more}]"


def _copy(value: Any) -> Any:
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


@dataclass
class Constant:
    """A plain number among an op's inputs (drawn as a small grey box)."""

    value: Any


@dataclass
class Tape:
    """What `record_forward` saw: every node made, in the order made, with its inputs."""

    nodes: list[Any] = field(default_factory=list)
    inputs: dict[int, tuple[Any, ...]] = field(default_factory=dict)


@contextlib.contextmanager
def record_forward(node_class: type) -> Iterator[Tape]:
    """Within the block, note every `node_class` (or subclass) object made and its inputs.

    For a class that keeps no `parents` (notebook 03's `ForwardValue` keeps only values): build
    the expression inside ``with record_forward(ForwardValue) as tape:`` and pass ``tape=tape``
    to the view. The class's ``__init__`` is wrapped for the block only, then put back.
    """
    tape = Tape()
    own = "__init__" in node_class.__dict__
    original = node_class.__init__

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        tape.inputs[id(self)] = args
        tape.nodes.append(self)

    node_class.__init__ = recording_init
    try:
        yield tape
    finally:
        if own:
            node_class.__init__ = original
        else:
            del node_class.__init__


# ------------------------------------------------------------------------------------ graph

class Graph:
    """The graph that ends at `output`: nodes in topological order, names, levels, positions.

    `nodes` lists every node once, each after all of its inputs (the order the forward pass
    made them). `inputs[id(node)]` are its inputs as drawn (nodes and `Constant`s); a variable
    made from one number (or from none) has no drawn inputs.
    """

    def __init__(self, output: Any, names: Mapping[Any, Any] | None = None,
                 tape: Tape | None = None) -> None:
        if not _is_node(output):
            raise TypeError(
                f"the graph view draws a node with a `value` (or `data`) attribute; got "
                f"{type(output).__name__}. Pass the output of your expression, e.g. L.")
        self.output = output
        self.tape = tape
        self.inputs: dict[int, list[Any]] = {}
        self.nodes = self._collect(output)
        self.by_id = {id(node): node for node in self.nodes}
        self.names = self._name_nodes(names)
        self.level: dict[int, int] = {}
        self.position: dict[int, tuple[float, float]] = {}
        self._layout()

    # which objects are the inputs of a node
    def _raw_inputs(self, node: Any) -> tuple[Any, ...] | None:
        parents = _parents_attribute(node)
        if parents is None and self.tape is not None:
            parents = self.tape.inputs.get(id(node))
        return parents

    def _collect(self, output: Any) -> list[Any]:
        if self._raw_inputs(output) is None:
            root = [k for k in type(output).__mro__ if k is not object][-1].__name__
            raise TypeError(
                f"{type(output).__name__} objects keep no `parents`, so the graph cannot be "
                "read back from them. Build the expression inside "
                f"`with record_forward({root}) as tape:` and pass tape=tape.")
        order: list[Any] = []
        seen: set[int] = set()
        stack: list[tuple[Any, bool]] = [(output, False)]
        while stack:  # depth-first, iterative: no recursion limit
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            raw = self._raw_inputs(node) or ()
            parents = [p for p in raw if _is_node(p)]
            made_from_number = len(raw) == 1 and _same(raw[0], _value_of(node))
            if not parents and (len(raw) == 0 or made_from_number):
                drawn: list[Any] = []  # a variable: its one input is the number it was made from
            else:
                drawn = [p if _is_node(p) else Constant(p) for p in raw]
            self.inputs[id(node)] = drawn
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(parents) if id(p) not in seen)
            if len(seen) > MAX_NODES:
                raise ValueError(f"the graph has more than {MAX_NODES} nodes: too many to draw "
                                 "readably; draw a smaller example")
        if self.tape is not None:  # the order the forward pass really ran in
            made = {id(node): i for i, node in enumerate(self.tape.nodes)}
            if all(id(node) in made for node in order):
                order.sort(key=lambda node: made[id(node)])
        return order

    def parents(self, node: Any) -> list[Any]:
        """The inputs of `node` that are nodes (constants left out), in order."""
        return [p for p in self.inputs[id(node)] if not isinstance(p, Constant)]

    def is_variable(self, node: Any) -> bool:
        """A node with no inputs drawn: an input variable (or a leaf tensor)."""
        return not self.inputs[id(node)]

    def _name_nodes(self, names: Mapping[Any, Any] | None) -> dict[int, str]:
        given: dict[int, str] = {}
        for key, value in (names or {}).items():
            if isinstance(key, str):  # a namespace such as locals(): name -> object
                if key.startswith("_") or not _is_node(value) or id(value) not in self.by_id:
                    continue
                given.setdefault(id(value), key)
            elif id(key) in self.by_id:  # node -> name
                given[id(key)] = str(value)
        named = {}
        count = 0
        for node in self.nodes:
            if id(node) in given:
                named[id(node)] = given[id(node)]
            else:
                count += 1
                named[id(node)] = f"t{count}"
        return named

    def name(self, node: Any) -> str:
        """The prose's name of `node` if one was given, else t1, t2, … in forward order."""
        if isinstance(node, Constant):
            return _fmt(node.value, 3)
        return self.names[id(node)]

    def op(self, node: Any) -> str:
        """The op's class name, as the student wrote it (e.g. `_mul`)."""
        return type(node).__name__

    def expression(self, node: Any) -> str:
        """`a = x ** 2`: the node's name, its op and its inputs' names (or `x` for an input)."""
        name = self.name(node)
        if self.is_variable(node):
            return f"{name}  (input)"
        args = [self.name(p) for p in self.inputs[id(node)]]
        key = self.op(node).lstrip("_").lower()
        if key in _INFIX and len(args) == 2:
            return f"{name} = {args[0]} {_INFIX[key]} {args[1]}"
        if key in _PREFIX and len(args) == 1:
            return f"{name} = {_PREFIX[key]}{args[0]}"
        settings = {k: v for k, v in getattr(node, "__dict__", {}).items()
                    if k == "axis" and v is not None}
        extra = "".join(f", {k}={v}" for k, v in settings.items())
        return f"{name} = {key}({', '.join(args)}{extra})"

    def tangents(self, node: Any) -> list[tuple[str, Any]]:
        """(variable name, tangent) pairs read from `node.forward_grads`, if it has them."""
        forward_grads = getattr(node, "forward_grads", None)
        if not isinstance(forward_grads, Mapping):
            return []
        pairs = []
        for variable, tangent in forward_grads.items():
            label = self.names.get(id(variable)) or "?"
            pairs.append((label, tangent))
        return pairs

    def _layout(self) -> None:
        for node in self.nodes:  # nodes come after their inputs
            parents = self.parents(node)
            self.level[id(node)] = 1 + max((self.level[id(p)] for p in parents), default=-1)
        users: dict[int, list[int]] = {}
        for node in self.nodes:
            for p in self.parents(node):
                users.setdefault(id(p), []).append(self.level[id(node)])
        for node in self.nodes:  # an input sits just left of its first user
            if not self.parents(node) and id(node) in users:
                self.level[id(node)] = min(users[id(node)]) - 1
        columns: dict[int, list[Any]] = {}
        for node in self.nodes:
            columns.setdefault(self.level[id(node)], []).append(node)
        for level in sorted(columns):  # order each column by where its inputs sit
            column = columns[level]
            if level > 0:
                def barycentre(node: Any) -> float:  # inputs go below the ops
                    ys = [-self.position[id(p)][1] for p in self.parents(node)]
                    return sum(ys) / len(ys) if ys else math.inf
                column.sort(key=barycentre)
            for i, node in enumerate(column):
                self.position[id(node)] = (float(level), (len(column) - 1) / 2 - i)
        self.levels = max(columns) + 1
        self.height = max(len(c) for c in columns.values())


def graph_of(output: Any, names: Mapping[Any, Any] | None = None,
             tape: Tape | None = None) -> Graph:
    """Read the graph that ends at `output` (names: a namespace like locals(), or node -> name)."""
    return Graph(output, names, tape)


def reverse_topological_order(output: Any, tape: Tape | None = None) -> list[Any]:
    """Every node `output` depends on, each before all of its inputs (output first)."""
    return list(reversed(Graph(output, tape=tape).nodes))


def naive_walk_visits(output: Any, limit: int = 200, tape: Tape | None = None) -> list[Any]:
    """The nodes a naive recursive walk visits: push to each input, then recurse into it.

    A node reached along two paths is visited twice (and so is everything below it): the
    double count of notebook 04. At most `limit` visits are listed (the count grows with the
    number of paths, which can be exponential).
    """
    graph = Graph(output, tape=tape)
    visits: list[Any] = []
    stack = [output]
    while stack and len(visits) < limit:  # the recursion's pre-order, without recursion
        node = stack.pop()
        visits.append(node)
        stack.extend(reversed(graph.parents(node)))
    return visits


# --------------------------------------------------------------------------- backward trace

@dataclass
class Update:
    """One change of a node's `grad` seen while the student's backward ran."""

    target: Any
    before: Any
    after: Any
    runner: Any | None          # the node whose turn it was (None: before any node ran)
    method: str | None          # "grads" or "vjp": what the runner's returned value was
    local: Any | None           # that returned value for this input (None if unknown)
    runner_grad: Any | None     # the runner's grad when it made the update
    grads: dict[int, Any]       # every node's grad right after this update


@dataclass
class Run:
    """One turn of a node: a call of its `backward_pass`, `grads` or `vjp`."""

    node: Any
    visit: int                  # 1 for its first turn, 2 for the second, …
    updates: list[Update] = field(default_factory=list)


@dataclass
class BackwardTrace:
    """What the student's backward did, in order: set-up updates, then the turns of nodes."""

    setup: list[Update]
    runs: list[Run]
    final: dict[int, Any]
    error: str | None = None


def _grad_descriptor(cls: type) -> Any:
    for klass in cls.__mro__:
        if "grad" in klass.__dict__:
            return klass.__dict__["grad"]
    return None


class _Recorder:
    """Swaps each node's class for a recording subclass while the student's backward runs."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.members = {id(node) for node in graph.nodes}
        self.shadow = {id(node): _copy(getattr(node, "grad", None)) for node in graph.nodes}
        self.setup: list[Update] = []
        self.runs: list[Run] = []
        self.visits: dict[int, int] = {}
        self.returned: dict[int, tuple[str, Any]] = {}   # node -> last (method, returned)
        self.used: dict[tuple[int, int], int] = {}        # (runner, target) -> updates since
        self.order: dict[int, int] = {}                   # node -> when it last ran
        self.clock = 0
        self.classes: dict[type, type] = {}
        self.originals: list[tuple[Any, type]] = []

    def subclass(self, cls: type) -> type:
        if cls in self.classes:
            return self.classes[cls]
        recorder = self
        descriptor = _grad_descriptor(cls)
        data_descriptor = descriptor is not None and hasattr(descriptor, "__set__")

        def get_grad(node: Any) -> Any:
            if data_descriptor:
                return descriptor.__get__(node, cls)
            if "grad" in getattr(node, "__dict__", {}):
                return node.__dict__["grad"]
            if descriptor is not None:
                return descriptor
            raise AttributeError("grad")

        def set_grad(node: Any, value: Any) -> None:
            if data_descriptor:
                descriptor.__set__(node, value)
            else:
                node.__dict__["grad"] = value
            recorder.on_set(node, value)

        namespace: dict[str, Any] = {"__slots__": (), "grad": property(get_grad, set_grad),
                                     "__module__": cls.__module__,
                                     "__qualname__": cls.__qualname__}
        for method in ("backward_pass", "grads", "vjp"):
            if callable(getattr(cls, method, None)):
                namespace[method] = self._wrap(cls, method)
        recording = type(cls.__name__, (cls,), namespace)
        self.classes[cls] = recording
        return recording

    def _wrap(self, cls: type, method: str) -> Callable[..., Any]:
        original = getattr(cls, method)
        recorder = self

        def wrapper(node: Any, *args: Any, **kwargs: Any) -> Any:
            recorder.on_turn(node)
            result = original(node, *args, **kwargs)
            if method != "backward_pass":
                recorder.returned[id(node)] = (method, result)
            return result

        wrapper.__name__ = method
        return wrapper

    def on_turn(self, node: Any) -> None:
        if id(node) not in self.members:
            return
        self.clock += 1
        self.order[id(node)] = self.clock
        current = self.runs[-1] if self.runs else None
        if current is not None and current.node is node and not current.updates:
            return  # backward_pass calling grads: one turn, not two
        self.visits[id(node)] = self.visits.get(id(node), 0) + 1
        self.runs.append(Run(node, self.visits[id(node)]))
        self.returned.pop(id(node), None)
        for key in [k for k in self.used if k[0] == id(node)]:
            del self.used[key]

    def runner_for(self, target: Any) -> Any | None:
        """The node handing a gradient to `target`: a local variable of the calling frames."""
        children = [n for n in self.graph.nodes
                    if any(p is target for p in self.graph.parents(n))]
        if not children:
            return None
        child_ids = {id(c) for c in children}
        frame = sys._getframe(2)
        for _ in range(30):  # the innermost frame that holds a user of target wins
            if frame is None:
                break
            found = [v for v in frame.f_locals.values() if id(v) in child_ids]
            if found:
                return max(found, key=lambda n: self.order.get(id(n), -1))
            frame = frame.f_back
        ran = [c for c in children if id(c) in self.order]
        return max(ran, key=lambda n: self.order[id(n)]) if ran else None

    def on_set(self, node: Any, value: Any) -> None:
        if id(node) not in self.members:
            return
        before = self.shadow[id(node)]
        after = _copy(value)
        self.shadow[id(node)] = after
        runner = self.runner_for(node) if self.runs else None
        method = local = runner_grad = None
        if runner is not None:
            method, returned = self.returned.get(id(runner), (None, None))
            positions = [i for i, p in enumerate(self.graph.inputs[id(runner)]) if p is node]
            used = self.used.get((id(runner), id(node)), 0)
            self.used[(id(runner), id(node))] = used + 1
            if returned is not None and positions:
                index = positions[min(used, len(positions) - 1)]
                try:
                    local = _copy(returned[index])
                except (TypeError, IndexError, KeyError):
                    local = None
            runner_grad = _copy(self.shadow[id(runner)])
        update = Update(node, before, after, runner, method, local, runner_grad,
                        dict(self.shadow))
        if runner is None:
            self.setup.append(update)
        else:
            run = self.runs[-1]
            if run.node is not runner:  # back in a caller after a recursive call
                self.runs.append(Run(runner, self.visits.get(id(runner), 1)))
                self.runs[-1].visit = -self.runs[-1].visit  # marks "continued"
                run = self.runs[-1]
            run.updates.append(update)

    def __enter__(self) -> _Recorder:
        try:
            for node in self.graph.nodes:
                cls = type(node)
                node.__class__ = self.subclass(cls)
                self.originals.append((node, cls))
        except TypeError as error:
            self.__exit__(None, None, None)
            raise TypeError(
                f"cannot observe {type(node).__name__} objects while backward runs ({error}); "
                "the step-through needs plain Python classes") from error
        return self

    def __exit__(self, *exc: Any) -> None:
        for node, cls in self.originals:
            node.__class__ = cls
        self.originals.clear()


def _default_backward(output: Any) -> Any:
    return output.backward()


def trace_backward(output: Any, backward: Callable[[Any], Any] | None = None,
                   tape: Tape | None = None, graph: Graph | None = None) -> BackwardTrace:
    """Run the student's backward on `output`'s graph and record what it did, node by node.

    `backward` is called as ``backward(output)`` (default: ``output.backward()``); it may be a
    correct backward or a naive recursive walk. Recorded: every change of a node's `grad` (with
    the node whose turn it was, its grad and the local derivative its `grads` returned), and
    every node's grad after each change. An exception from `backward` ends the trace and is
    kept in `error`; every node gets its own class back in any case.
    """
    graph = graph or Graph(output, tape=tape)
    run = backward or _default_backward
    error = None
    with _Recorder(graph) as recorder:
        try:
            run(output)
        except NotImplementedError:  # a stub: say so, not an empty "NotImplementedError: "
            error = STUB
        except Exception as exc:  # the student's code: show what it raised, do not crash
            error = f"{type(exc).__name__}: {exc}"
    final = {id(node): _copy(getattr(node, "grad", None)) for node in graph.nodes}
    runs = [r for r in recorder.runs]
    for r in runs:
        r.visit = abs(r.visit)
    return BackwardTrace(recorder.setup, runs, final, error)


# -------------------------------------------------------------------------------- the steps

@dataclass
class Step:
    """One picture of the stepper: what is lit, what is shown, and the sentence under it."""

    phase: str                              # "graph", "forward", "backward", "walk", "order"
    text: str
    current: Any | None = None
    done: set[int] = field(default_factory=set)       # nodes already computed / visited
    show_values: bool = True
    grads: dict[int, Any] | None = None               # grads to print in the boxes
    arrow: tuple[Any, Any, str] | None = None         # (from node, to node, label)
    target: Any | None = None
    counts: dict[int, int] = field(default_factory=dict)  # visits so far, per node


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def forward_steps(graph: Graph) -> list[Step]:
    """One step per node, in the order the forward pass made them."""
    steps = []
    done: set[int] = set()
    for node in graph.nodes:
        done = done | {id(node)}
        name = graph.name(node)
        if graph.is_variable(node):
            text = f"{name} is an input: {name} = {_fmt(_value_of(node))}"
        else:
            text = f"{graph.expression(node)}  →  {_fmt(_value_of(node))}"
        tangents = graph.tangents(node)
        if tangents:
            text += ";  " + ", ".join(f"∂{name}/∂{v} = {_fmt(t)}" for v, t in tangents[:3])
        steps.append(Step("forward", f"forward pass: {text}", node, set(done)))
    return steps


def _update_text(graph: Graph, update: Update) -> str:
    target, runner = graph.name(update.target), graph.name(update.runner)
    before, after = update.before, update.after
    scalar = all(np.ndim(v) == 0 for v in (before, after) if v is not None)
    change = f"{target}.grad: {_fmt(before)} → {_fmt(after)}"
    if update.local is None or not scalar or update.method is None:
        if update.method == "vjp":
            verb = "=" if before is None or _is_zero(before) else "+="
            return (f"{target}.grad {verb} the vjp {runner} returned for {target}: "
                    f"{_fmt(update.local if update.local is not None else after)}")
        return change
    if update.method == "vjp":
        return f"{target}.grad += {_fmt(update.local)} from {runner}.vjp   (now {_fmt(after)})"
    try:
        grad, local = float(update.runner_grad), float(update.local)
        old, new = float(before or 0.0), float(after)
    except (TypeError, ValueError):
        return change
    product = grad * local
    sentence = f"{runner}.grad × ∂{runner}/∂{target} = {_fmt(grad)} × {_fmt(local)}"
    if math.isclose(new - old, product, rel_tol=1e-9, abs_tol=1e-12):
        return f"{target}.grad += {sentence}   (now {_fmt(new)})"
    if math.isclose(new, product, rel_tol=1e-9, abs_tol=1e-12) and old != 0:
        return (f"{target}.grad = {sentence}: overwritten, it was {_fmt(old)} "
                "(gradients from two paths must add)")
    return change


def backward_steps(graph: Graph, trace: BackwardTrace) -> list[Step]:
    """Steps of the recorded backward: the set-up, then each node's turn and each update."""
    steps: list[Step] = []
    done = {id(node) for node in graph.nodes}
    counts: dict[int, int] = {}
    grads = {id(node): None for node in graph.nodes}
    if trace.setup:
        grads = dict(trace.setup[-1].grads)
        seeds = [u for u in trace.setup if not _is_zero(u.after)]
        zeros = len(trace.setup) > len(seeds)
        parts = ["every grad set to 0"] if zeros else []
        parts += [f"{graph.name(u.target)}.grad = {_fmt(u.after)}" for u in seeds[-2:]]
        text = "backward starts: " + ", ".join(parts)
        steps.append(Step("backward", text, graph.output, done, grads=grads))
    for run in trace.runs:
        counts = dict(counts)
        if run.visit > counts.get(id(run.node), 0):
            counts[id(run.node)] = run.visit
        name = graph.name(run.node)
        visit = f" ({_ordinal(run.visit)} turn!)" if run.visit > 1 else ""
        if not run.updates:
            if graph.parents(run.node):
                text = f"{name} runs{visit}: passes nothing on"
            else:
                text = f"{name} runs{visit}: an input, nothing to pass on; {name}.grad = " \
                       f"{_fmt(grads.get(id(run.node)))}"
            steps.append(Step("backward", text, run.node, done, grads=grads,
                              counts=counts))
            continue
        for update in run.updates:
            grads = update.grads
            text = f"{name} runs{visit}: {_update_text(graph, update)}"
            label = _arrow_label(update)
            steps.append(Step("backward", text, run.node, done, grads=grads,
                              arrow=(run.node, update.target, label), target=update.target,
                              counts=counts))
    if trace.error == STUB:
        steps.append(Step("backward", "backward: not yet — an exercise it needs is still a stub "
                          "(NotImplementedError); finish it and run this cell again", None, done,
                          grads=grads, counts=counts))
    elif trace.error:
        steps.append(Step("backward", f"your backward raised {trace.error}", None, done,
                          grads=grads, counts=counts))
    elif trace.runs:
        inputs = [n for n in graph.nodes if graph.is_variable(n)
                  and trace.final.get(id(n)) is not None][:3]
        text = "backward done: " + ", ".join(
            f"d{graph.name(graph.output)}/d{graph.name(n)} = {graph.name(n)}.grad = "
            f"{_fmt(trace.final.get(id(n)))}" for n in inputs)
        steps.append(Step("backward", text, None, done, grads=dict(trace.final), counts=counts))
    return steps


def _is_zero(value: Any) -> bool:
    try:
        return bool(np.all(np.asarray(value, dtype=np.float64) == 0))
    except (TypeError, ValueError):
        return False


def _arrow_label(update: Update) -> str:
    delta = None
    try:
        if np.ndim(update.after) == 0:
            delta = float(update.after) - float(update.before or 0.0)
    except (TypeError, ValueError):
        delta = None
    if update.local is not None and update.method == "grads" and np.ndim(update.local) == 0 \
            and update.runner_grad is not None and np.ndim(update.runner_grad) == 0:
        return f"{_fmt(update.runner_grad)} × {_fmt(update.local)}"
    if delta is not None:
        return f"+{_fmt(delta)}" if delta >= 0 else _fmt(delta)
    if update.method == "vjp":
        return f"vjp {_fmt(update.after, compact=True)}"
    return "+= g"


def handed_grad_steps(graph: Graph, grads: Mapping[Any, Any]) -> list[Step]:
    """Backward steps for gradients the student computed by hand (notebook 02): reveal each
    handed gradient in reverse topological order."""
    given = {}
    for key, value in grads.items():
        node = key
        if isinstance(key, str):
            node = next((n for n in graph.nodes if graph.name(n) == key), None)
        if node is not None and id(node) in graph.by_id:
            given[id(node)] = value
    steps, shown = [], {}
    done = {id(node) for node in graph.nodes}
    for node in reversed(graph.nodes):
        if id(node) not in given:
            continue
        shown = dict(shown)
        shown[id(node)] = given[id(node)]
        name = graph.name(node)
        text = f"backward: d{graph.name(graph.output)}/d{name} = {_fmt(given[id(node)])}"
        steps.append(Step("backward", text, node, done, grads=shown))
    return steps


def visit_steps(graph: Graph, visits: Sequence[Any], title: str, phase: str) -> list[Step]:
    """One step per visit, counting how often each node has been visited so far."""
    steps, counts = [], {}
    for i, node in enumerate(visits, start=1):
        counts = dict(counts)
        counts[id(node)] = counts.get(id(node), 0) + 1
        again = f" — visited {counts[id(node)]} times!" if counts[id(node)] > 1 else ""
        steps.append(Step(phase, f"{title}, visit {i}/{len(visits)}: {graph.name(node)}{again}",
                          node, set(counts), show_values=True, counts=counts))
    return steps


# ------------------------------------------------------------------------------------ drawing

def _box_text(graph: Graph, node: Any, step: Step | None) -> tuple[str, str]:
    """(title line, detail lines) of a node's box."""
    title = graph.expression(node)
    if step is not None and step.done and id(node) not in step.done and step.phase == "forward":
        return title, "value ?"
    lines = [f"value {_fmt(_value_of(node), compact=True)}"]
    for variable, tangent in graph.tangents(node)[:3]:
        lines.append(f"∂/∂{variable} {_fmt(tangent, compact=True)}")
    if step is None:
        grad = getattr(node, "grad", None)
        if grad is not None and not callable(grad):
            lines.append(f"grad {_fmt(grad, compact=True)}")
    elif step.grads is not None and step.grads.get(id(node)) is not None:
        lines.append(f"grad {_fmt(step.grads[id(node)], compact=True)}")
    return title, "\n".join(lines)


def _figure_size(graph: Graph) -> tuple[float, float]:
    return (max(5.5, 2.1 * graph.levels + 0.4), max(2.4, 1.25 * graph.height + 1.0))


def render(graph: Graph, step: Step | None, ax: Any) -> None:
    """Draw `graph` on `ax` as seen at `step` (None: a static picture of the final state)."""
    ax.clear()
    ax.set_axis_off()
    boxes: dict[int, Any] = {}
    inputs_done = step is None or step.phase != "forward"
    for node in graph.nodes:
        x, y = graph.position[id(node)]
        title, detail = _box_text(graph, node, step)
        colour = _DONE
        edge, width = "0.35", 1.0
        if step is not None:
            if step.phase == "forward" and id(node) not in step.done:
                colour = _PENDING
            if step.phase in ("walk", "order") and id(node) not in step.counts:
                colour = _PENDING
            if step.target is node:
                colour, edge, width = _TARGET, _FLOW, 2.0
            if step.current is node:
                colour, edge, width = _CURRENT, "black", 2.4
        faded = colour == _PENDING and step is not None and step.phase == "forward"
        text = ax.text(x, y, f"{title}\n{detail}", ha="center", va="center", fontsize=10,
                       color="0.55" if faded else "black", zorder=3,
                       bbox={"boxstyle": "round,pad=0.45", "fc": colour, "ec": edge,
                             "lw": width})
        boxes[id(node)] = text
        count = step.counts.get(id(node), 0) if step is not None else 0
        if count > 1:
            ax.text(x + 0.34, y + 0.36, f"×{count}", ha="center", va="center", fontsize=10,
                    color="white", fontweight="bold", zorder=5,
                    bbox={"boxstyle": "circle,pad=0.25", "fc": _FLOW, "ec": _FLOW})
    for node in graph.nodes:
        x, y = graph.position[id(node)]
        constants = [c for c in graph.inputs[id(node)] if isinstance(c, Constant)]
        for k, constant in enumerate(constants):  # a small grey box left of its user
            cy = y + 0.42 + 0.26 * k
            label = ax.text(x - 0.5, cy, _fmt(constant.value, 3), ha="center", va="center",
                            fontsize=9, color="0.3", zorder=3,
                            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.6",
                                  "ls": "--"})
            ax.annotate("", xy=(0, 0.5), xycoords=boxes[id(node)], xytext=(1, 0.5),
                        textcoords=label, arrowprops={"arrowstyle": "-|>", "color": "0.6",
                                                      "lw": 0.8, "shrinkA": 2, "shrinkB": 2})
        for parent in graph.parents(node):
            lit = inputs_done or id(node) in step.done
            # An arrow that skips a column bends over it, or it would run hidden behind the
            # boxes in between (a -> c behind b in a = x**2, b = 5*a, c = a*b).
            skips = graph.level[id(node)] - graph.level[id(parent)] > 1
            ax.annotate("", xy=(0, 0.5), xycoords=boxes[id(node)], xytext=(1, 0.5),
                        textcoords=boxes[id(parent)], zorder=1,
                        arrowprops={"arrowstyle": "-|>", "color": "0.45" if lit else "0.8",
                                    "lw": 1.1, "shrinkA": 3, "shrinkB": 3,
                                    "connectionstyle": f"arc3,rad={-0.3 if skips else 0.0}"})
    if step is not None and step.arrow is not None:  # the gradient flowing back to an input
        source, target, label = step.arrow
        ax.annotate("", xy=(1, 0.5), xycoords=boxes[id(target)], xytext=(0, 0.5),
                    textcoords=boxes[id(source)], zorder=4,
                    arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=0.8",
                                "color": _FLOW, "lw": 3.0, "shrinkA": 4, "shrinkB": 4,
                                "connectionstyle": f"arc3,rad={-0.25}"})
        (x0, y0), (x1, y1) = graph.position[id(source)], graph.position[id(target)]
        rad = -0.25  # where arc3 bends: the label sits just outside the curve's middle
        cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)
        mx, my = 0.25 * x0 + 0.5 * cx + 0.25 * x1, 0.25 * y0 + 0.5 * cy + 0.25 * y1
        bx, by = cx - (x0 + x1) / 2, cy - (y0 + y1) / 2
        norm = math.hypot(bx, by) or 1.0
        ax.text(mx + 0.2 * bx / norm, my + 0.2 * by / norm, label, ha="center", va="center",
                fontsize=9.5, color=_FLOW, fontweight="bold", zorder=6,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": _FLOW, "lw": 1.0})
    ax.set_xlim(-0.7, graph.levels - 0.3)
    half = (graph.height - 1) / 2
    ax.set_ylim(-half - 0.6, half + 0.7)


def draw_graph_view(output: Any, names: Mapping[Any, Any] | None = None, ax: Any = None,
                    tape: Tape | None = None, title: str | None = None) -> Any:
    """Draw the graph that ends at `output`: names, ops, values, tangents or grads; returns ax.

    `names` is a namespace such as ``locals()`` (each node gets the name it is bound to) or a
    mapping node -> name; unnamed nodes are called t1, t2, …. Grads are shown as the nodes hold
    them (run your backward first to see gradients).
    """
    graph = Graph(output, names, tape)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=_figure_size(graph))
    render(graph, None, ax)
    ax.set_title(title or "computational graph: inputs on the left, output on the right",
                 fontsize=10)
    return ax


# ------------------------------------------------------------------------------------- widget

class GraphStepper(widgets.VBox):
    """Prev/Next buttons, a Play button and a slider over the steps, above the picture.

    Attributes a notebook (or a test) may read: ``steps`` (the list of `Step`), ``slider``,
    ``play``, ``prev_button``, ``next_button``, ``image`` (the PNG being redrawn), ``caption``,
    ``graph``, ``trace`` (the recorded backward, or None) and ``draws``. Made by
    `graph_stepper` / `walk_stepper`; display it as the last expression of a cell.
    """

    def __init__(self, graph: Graph, steps: list[Step], trace: BackwardTrace | None = None,
                 interval_ms: int = 1200) -> None:
        if not steps:
            steps = [Step("graph", "the graph", None, set())]
        self.graph, self.steps, self.trace = graph, steps, trace
        self.draws = 0
        self._pngs: dict[int, bytes] = {}
        self.figure = Figure(figsize=_figure_size(graph), dpi=90)
        self.axes = self.figure.add_axes((0.01, 0.12, 0.98, 0.86))
        self._caption_artist = self.figure.text(0.5, 0.05, "", ha="center", va="center",
                                                fontsize=11, wrap=True)
        last = len(steps) - 1
        self.play = widgets.Play(value=0, min=0, max=last, step=1, interval=interval_ms,
                                 description="play")
        # No number beside the slider: it would count from 0 while the caption says "step 1/n".
        self.slider = widgets.IntSlider(value=0, min=0, max=last, description="step",
                                        continuous_update=False, readout=False,
                                        layout=widgets.Layout(width="420px"))
        self.link = widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.prev_button = widgets.Button(description="◀ Prev", layout=widgets.Layout(width="90px"))
        self.next_button = widgets.Button(description="Next ▶", layout=widgets.Layout(width="90px"))
        self.prev_button.on_click(lambda _: self.go(self.slider.value - 1))
        self.next_button.on_click(lambda _: self.go(self.slider.value + 1))
        self.caption = widgets.HTML()
        width = int(_figure_size(graph)[0] * 90)
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px"))
        controls = widgets.HBox([self.play, self.prev_button, self.next_button, self.slider])
        super().__init__([controls, self.caption, self.image])
        self.slider.observe(self._on_change, names="value")
        self.redraw()

    def go(self, index: int) -> None:
        """Show step `index` (clipped to the first and last step)."""
        self.slider.value = max(0, min(len(self.steps) - 1, int(index)))

    def _on_change(self, change: Any) -> None:
        self.redraw()

    def png(self, index: int) -> bytes:
        """The picture of step `index`, drawn once and kept."""
        if index not in self._pngs:
            step = self.steps[index]
            render(self.graph, step, self.axes)
            self._caption_artist.set_text(step.text)
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png")
            self.draws += 1
            self._pngs[index] = buffer.getvalue()
        return self._pngs[index]

    def redraw(self) -> None:
        """Show the picture and the sentence of the slider's step."""
        index = int(self.slider.value)
        step = self.steps[index]
        self.image.value = self.png(index)
        from html import escape

        self.caption.value = (f"<b>step {index + 1}/{len(self.steps)}</b> · "
                              f"{escape(step.text)}")


def graph_stepper(output: Any, names: Mapping[Any, Any] | None = None,
                  backward: Callable[[Any], Any] | str | None = "auto",
                  tape: Tape | None = None, grads: Mapping[Any, Any] | None = None,
                  interval_ms: int = 1200) -> GraphStepper:
    """A widget playing the forward pass node by node, then your backward pass update by update.

    `backward`: "auto" runs ``output.backward()`` when the node has one (notebooks 04, 05), a
    function is called as ``backward(output)``, None shows the forward pass only. `grads`
    (node or name -> number) shows gradients worked out by hand instead (notebook 02).
    """
    graph = Graph(output, names, tape)
    steps = forward_steps(graph)
    trace = None
    if backward == "auto":
        backward = _default_backward if callable(getattr(output, "backward", None)) else None
    if grads is not None:
        steps += handed_grad_steps(graph, grads)
    elif backward is not None:
        trace = trace_backward(output, backward, graph=graph)
        steps += backward_steps(graph, trace)
    return GraphStepper(graph, steps, trace, interval_ms)


def walk_stepper(output: Any, names: Mapping[Any, Any] | None = None,
                 naive: Callable[[Any], Any] | None = None,
                 backward: Callable[[Any], Any] | str | None = None,
                 tape: Tape | None = None, interval_ms: int = 1000) -> GraphStepper:
    """A widget stepping through a naive recursive walk's visits, then reverse topological order.

    Without `naive`, the visits are the structure's (each path to a node visits it again);
    with your recursive function (e.g. ``push_and_recurse``) its updates are recorded and shown.
    `backward` (a function, or "auto" for ``output.backward()``) records the correct order's
    updates too; without it the order's visits are shown.
    """
    graph = Graph(output, names, tape)
    steps: list[Step] = []
    walk = trace_backward(output, naive, graph=graph) if naive is not None else None
    if walk is not None and walk.error == STUB:
        walk = None  # the walk needs an op that is still a stub: show the visits it would make
    if walk is not None:
        for step in backward_steps(graph, walk):
            step.phase = "walk"
            step.counts = step.counts or {}
            step.text = "naive recursive walk: " + step.text
            steps.append(step)
    else:
        steps += visit_steps(graph, naive_walk_visits(output, tape=tape),
                             "naive recursive walk", "walk")
    if backward == "auto":
        backward = _default_backward
    trace = trace_backward(output, backward, graph=graph) if backward is not None else None
    if trace is not None and trace.error == STUB:
        trace = None
    if trace is not None:
        for step in backward_steps(graph, trace):
            step.phase = "order"
            step.text = "reverse topological order: " + step.text
            steps.append(step)
    else:
        steps += visit_steps(graph, list(reversed(graph.nodes)), "reverse topological order",
                             "order")
    return GraphStepper(graph, steps, None, interval_ms)
