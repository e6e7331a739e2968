"""Which of a submission's teaching-only cells grading can skip, safely.

A master marks a cell that no test needs (a plot, a widget, a timing race, a training demo)
with the cell tag `teaching-only` (JupyterLab: the property inspector's Cell Tags). Such a cell
must be locked (a read-only nbgrader cell, so nbgrader restores its source from the master)
and be neither an answer nor a test. Students still run it; grading skips it, which is most of
a notebook's grading time in some notebooks.

Only the master decides what is a teaching cell: a submission's cells are matched to the
master's by nbgrader `grade_id` (as OverwriteCells does), the submission's own tags are never
read, and a cell whose source differs from the master's runs. A teaching cell still runs where
skipping it could change what a later cell sees: when a cell that runs after it (any cell of
the submission, a student's own included, or a test cell, hidden part and all, as the master has
it) reads a name whose last definition before that reader is the teaching cell. "Defines"
counts what it binds (assignment, def, class, import, del, `global`) and what it may change
(a name passed to a call, a method called on a name, an item or attribute of a name assigned);
module objects are left out. A cell that reaches the namespace by reflection (globals(),
locals(), vars(), eval, exec, get_ipython and IPython magics, `__main__`, `sys.modules`, frames)
reads and may change every name; one that only hands `locals()` to a function
(`graph_stepper(L, names=locals())`, to label a drawing) reads every name. Changes made out of
sight, inside a function the cell calls, are not seen: a teaching cell that works so must not
be tagged (tests/notebooks/test_teaching_cells.py runs every master with its teaching cells
skipped). Keeping a cell is followed through: the names it reads keep
the teaching cells that define them.

`cells_to_skip` is a pure function of two notebooks; the step `SkipTeachingCells`
(`autograder.grading.steps.skip_teaching_cells`) stores its answer for SandboxedExecute.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

TEACHING_TAG = "teaching-only"

# Calls of these builtins change none of their arguments.
PURE_BUILTINS = frozenset({
    "print", "len", "range", "float", "int", "str", "repr", "abs", "min", "max", "sum", "round",
    "list", "tuple", "sorted", "isinstance", "enumerate", "zip", "type", "dict", "set", "format",
    "bool", "reversed", "any", "all", "hash", "id", "callable", "frozenset",
})
# Names and attributes through which code reaches the namespace without naming what it uses.
REFLECTIVE_NAMES = frozenset({"globals", "locals", "vars", "eval", "exec", "get_ipython",
                              "__import__", "compile", "breakpoint", "__builtins__"})
REFLECTIVE_ATTRIBUTES = frozenset({"__globals__", "f_globals", "f_locals", "f_back", "modules",
                                   "user_ns"})
# `show(names=locals())`: the namespace handed to a function to read (the graph steppers label
# their nodes so); any other use of these may change names as well.
NAMESPACE_CALLS = frozenset({"globals", "locals", "vars"})
REFLECTIVE_MODULES = frozenset({"__main__", "builtins", "inspect", "gc", "ctypes"})


@dataclass(frozen=True)
class CellNames:
    """The module-level names one cell reads and defines (binds or may change)."""

    reads: frozenset[str] = frozenset()
    defines: frozenset[str] = frozenset()
    reads_all: bool = False  # reaches the namespace by reflection
    defines_all: bool = False  # and may change any name through it


@dataclass
class SkipPlan:
    """What grading skips: cell indices of the submission, and why the others run."""

    skip: set[int] = field(default_factory=set)
    skipped_ids: list[str] = field(default_factory=list)
    run_anyway: dict[str, str] = field(default_factory=dict)  # grade_id -> why it runs


def is_teaching(cell) -> bool:
    """True for a master cell tagged teaching-only."""
    return TEACHING_TAG in cell.get("metadata", {}).get("tags", [])


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def tag_problem(cell) -> str | None:
    """Why a cell tagged teaching-only cannot be skipped (None: it can be).

    A teaching cell must be a locked code cell of nbgrader with a grade_id, and no answer or
    test: only then does nbgrader restore its source, and skipping it costs no points.
    """
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "code":
        return "is not a code cell"
    if meta.get("solution") or meta.get("grade"):
        return "is an answer or a test cell"
    if not meta.get("grade_id") or not meta.get("locked"):
        return "is not a locked nbgrader cell with a grade_id (make it read-only in nbgrader)"
    return None


def misplaced_tags(master) -> list[str]:
    """What is wrong with the master's teaching-only tags (an empty list: nothing)."""
    return [f"cell {i} ({grade_id(c) or 'no grade_id'}) is tagged {TEACHING_TAG} but "
            f"{tag_problem(c)}" for i, c in enumerate(master.cells)
            if is_teaching(c) and tag_problem(c)]


def cells_to_skip(master, submission) -> SkipPlan:
    """The submission's cells grading may skip, from the master's teaching-only tags.

    `master` and `submission` are notebooks (nbformat nodes or plain dicts); the submission
    is the sanitised one, whose indices SandboxedExecute sees.
    """
    master_code = {grade_id(c): c for c in master.cells
                   if c.get("cell_type") == "code" and grade_id(c)}
    teaching = {g for g, c in master_code.items() if is_teaching(c) and not tag_problem(c)}
    tests = {g for g, c in master_code.items()
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    code = [(i, c) for i, c in enumerate(submission.cells) if c.get("cell_type") == "code"]
    seen: dict[str, int] = {}
    for _, cell in code:
        if grade_id(cell):
            seen[grade_id(cell)] = seen.get(grade_id(cell), 0) + 1

    plan = SkipPlan()
    candidates: dict[int, str] = {}
    for index, cell in code:
        gid = grade_id(cell)
        if gid not in teaching:
            continue
        if seen[gid] > 1:
            plan.run_anyway[gid] = "its grade_id appears more than once in the submission"
        elif _source(cell) != _source(master_code[gid]):
            plan.run_anyway[gid] = "its source differs from the master's"
        else:
            candidates[index] = gid

    # each cached per source: the locked cells are the same in every submission
    modules = imported_names(_source(c) for _, c in code)
    names = {}
    for index, cell in code:
        found = cell_names(_source(cell), modules)
        if grade_id(cell) in tests:  # the test as the master has it, hidden part and all
            found = _union(found, cell_names(_source(master_code[grade_id(cell)]), modules))
        names[index] = found

    skip = set(candidates)
    while True:
        kept = _needed(code, names, skip)
        if not kept:
            break
        for index, why in kept.items():
            skip.discard(index)
            plan.run_anyway[candidates[index]] = why
    plan.skip = skip
    plan.skipped_ids = [candidates[i] for i in sorted(skip)]
    return plan


def _needed(code, names: dict[int, CellNames], skip: set[int]) -> dict[int, str]:
    """Skipped cells that a cell which runs reads from, with the reason (the first found)."""
    last: dict[str, int] = {}  # name -> the last cell before here that defines it
    last_opaque = -1  # the last cell before here that may define every name
    needed: dict[int, str] = {}
    for index, cell in code:
        found = names[index]
        if index not in skip:
            if found.reads_all:
                for earlier in skip:
                    if earlier < index:
                        needed.setdefault(earlier, f"cell {index} reaches every name "
                                          "(globals(), eval, a magic, ...)")
            for name in sorted(found.reads):
                definer = max(last.get(name, -1), last_opaque)
                if definer in skip:
                    needed.setdefault(definer, f"cell {index} ({grade_id(cell) or 'no id'}) "
                                      f"reads `{name}`, which it defines")
        for name in found.defines:
            last[name] = index
        if found.defines_all:
            last_opaque = index
    return needed


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _union(a: CellNames, b: CellNames) -> CellNames:
    return CellNames(a.reads | b.reads, a.defines | b.defines, a.reads_all or b.reads_all,
                     a.defines_all or b.defines_all)


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


def python_of(source: str) -> str:
    """A cell's source as Python (IPython's magics and shell escapes become calls)."""
    try:
        return _transformer().transform_cell(source)
    except Exception:  # noqa: BLE001 (left as it is: ast.parse decides)
        return source


@lru_cache(maxsize=4096)
def parsed(source: str) -> tuple[str, ast.Module] | None:
    """(Python source, its tree) of a cell, None if it does not parse. Plain Python is taken
    as it is (IPython leaves it so); the rest goes through IPython's transforms first."""
    try:
        return source, ast.parse(source)
    except SyntaxError:
        pass
    python = python_of(source)
    try:
        return python, ast.parse(python)
    except SyntaxError:
        return None


def imported_names(sources: Iterable[str]) -> frozenset[str]:
    """Names bound by an import statement in any of the sources: modules, and functions
    and classes of libraries, which a cell calls or reads but does not change."""
    found = set()
    for source in sources:
        tree = parsed(source)
        if tree is None:
            continue
        for node in ast.walk(tree[1]):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return frozenset(found)


@lru_cache(maxsize=4096)
def cell_names(source: str, modules: frozenset[str] = frozenset()) -> CellNames:
    """The module-level names a cell reads (before binding them itself) and defines.

    A cell that does not parse runs nothing: it reads and defines nothing. `modules` are
    names that hold modules: calling their functions does not count as changing them.
    """
    found = parsed(source)
    if found is None:
        return CellNames()
    python, tree = found
    reflection = _reflection(tree)
    if reflection == "writes":
        return CellNames(reads_all=True, defines_all=True)
    read, bound = _scope_names(symtable.symtable(python, "<cell>", "exec"))
    # A name the cell binds at its top level before any statement reads it is its own. The
    # statement that first mentions a name is found generously (any load, nested scopes
    # included) and the one that first binds it strictly (module scope only): both err
    # towards counting the read.
    first_read: dict[str, int] = {}
    first_bound: dict[str, int] = {}
    changed: set[str] = set()
    for number, statement in enumerate(tree.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                first_read.setdefault(node.id, number)
        for name in _bound_at_top(statement):
            first_bound.setdefault(name, number)
        changed |= _changed(statement)
    reads = {n for n in read if n not in first_bound or first_read.get(n, -1) <= first_bound[n]}
    return CellNames(frozenset(reads), frozenset(bound | (changed - modules)),
                     reads_all=reflection == "reads")


def _bound_at_top(statement: ast.stmt) -> set[str]:
    """Names a statement binds in the module's scope (not inside a def, lambda, class body or
    comprehension, whose names are their own)."""
    bound = set()
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        stack.extend(ast.iter_child_nodes(node))
    return bound


def _scope_names(table: symtable.SymbolTable) -> tuple[set[str], set[str]]:
    """Module-level names a statement reads and binds, nested scopes included."""
    read, bound = set(), set()
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_referenced():
            read.add(name)
        if symbol.is_assigned() or symbol.is_imported():
            bound.add(name)
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        for symbol in child.get_symbols():
            if symbol.is_global():
                if symbol.is_referenced():
                    read.add(symbol.get_name())
                if symbol.is_declared_global() and symbol.is_assigned():
                    bound.add(symbol.get_name())
        stack.extend(child.get_children())
    return read, bound


def _root(node: ast.AST, through_calls: bool = False) -> str | None:
    """The name an expression such as `a.b[0].c` is part of (`a`); a call's result is a new
    object unless through_calls (a method's receiver: `a.b().c()` may change `a`)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)) or (
            through_calls and isinstance(node, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed(statement: ast.stmt) -> set[str]:
    """Names a statement may change in place when it runs (not when a function it defines
    is called later: a reader of that function keeps the cell that defines it anyway)."""
    changed = set()
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Call):
            pure = isinstance(node.func, ast.Name) and node.func.id in PURE_BUILTINS
            if not pure:
                arguments = [*node.args, *(k.value for k in node.keywords)]
                changed |= {r for r in map(_root, arguments) if r}
            if isinstance(node.func, ast.Attribute):
                root = _root(node.func.value, through_calls=True)
                if root:
                    changed.add(root)
        elif (isinstance(node, (ast.Attribute, ast.Subscript))
              and isinstance(node.ctx, (ast.Store, ast.Del))):
            root = _root(node.value)
            if root:
                changed.add(root)
        stack.extend(ast.iter_child_nodes(node))
    return changed


def _reflection(tree: ast.AST) -> str | None:
    """"writes" where the cell may read and change any name by reflection, "reads" where it
    only hands the namespace to a function to read (`f(names=locals())`), else None."""
    handed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                if (isinstance(argument, ast.Call) and isinstance(argument.func, ast.Name)
                        and argument.func.id in NAMESPACE_CALLS and not argument.args):
                    handed.add(id(argument.func))
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in REFLECTIVE_NAMES:
            if id(node) not in handed:
                return "writes"
            found = "reads"
        elif isinstance(node, ast.Attribute) and node.attr in REFLECTIVE_ATTRIBUTES:
            return "writes"
        elif isinstance(node, ast.Import) and any(
                a.name.split(".")[0] in REFLECTIVE_MODULES for a in node.names):
            return "writes"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in \
                REFLECTIVE_MODULES:
            return "writes"
    return found
