"""Grader-inserted cells that detect tampering with numpy, coursekit, builtins or IPython.

`install_source` runs first, before any student code: it imports numpy and coursekit's checking
modules and snapshots the identity (and `__code__`/`__defaults__`) of every callable they export,
the builtins, and IPython's execution machinery (input/AST transformers, `run_cell`,
`showtraceback`, custom exception handlers, `sys.excepthook`, trace hooks, output streams, the
user namespace and `sys.modules`). `record_source` runs after every locked cell (setup,
definitions, tests: restored from the masters) and records what the names it binds refer to in
the notebook's namespace. `check_source` runs before every grade cell and once at the end: besides
the snapshot, it checks the names that grade cell reads: a name a locked cell bound must still be
the same object (a submission that rebinds `check_derivative = lambda *a: None` after the setup
cell's import is caught), and a builtin it reads (`abs`, `float`, ...) must not be shadowed. It
prints `<nonce> OK` when nothing changed and `<nonce> TAMPERED: <what>` otherwise. The
grader reads those lines after execution; a check that reports tampering, fails, or stays
silent while its kernel lived zeroes the notebook.

This is an in-kernel defence: it catches patching of the functions the checks use (the attack in
the threat model). A submission that rewrites the check cells themselves through IPython
internals is a different attack; the check snapshot also covers the machinery that makes that
possible (transformers, run_cell), so installing it is reported.
"""

from __future__ import annotations

import ast

GUARD_KEY = "autograder_guard"

_INSTALL = r'''
def __autograder_install(nonce):
    import builtins, importlib, pkgutil, sys
    import numpy
    import coursekit
    modules = [builtins, numpy, numpy.linalg, numpy.testing, numpy.random, coursekit]
    for info in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
        if any(word in info.name for word in ("plot", "widget", "viz", "display")):
            continue
        try:
            modules.append(importlib.import_module(info.name))
        except Exception:
            pass
    def func(obj):
        return id(getattr(obj, "__func__", obj))

    def identity(obj):
        return (id(obj), id(getattr(obj, "__code__", None)),
                id(getattr(obj, "__defaults__", None)), id(getattr(obj, "__kwdefaults__", None)))
    snapshot = {}
    for module in modules:
        for name, obj in list(vars(module).items()):
            if module is builtins and name in ("input", "raw_input", "getpass"):
                continue  # ipykernel replaces these for every cell
            if callable(obj) or name in ("pi", "e", "inf", "nan"):
                snapshot[(module.__name__, name)] = (module, name, identity(obj))
    shell = get_ipython()
    namespace = shell.user_ns
    manager = shell.input_transformer_manager
    module_names = {module.__name__: module for module in modules}
    hooks = {
        "input transformers": lambda: [id(f) for f in shell.input_transformers_cleanup]
        + [id(f) for f in shell.input_transformers_post]
        + [id(shell.input_transformer_manager), id(type(manager).transform_cell),
           id(type(manager).do_token_transforms), "transform_cell" in vars(manager)]
        + [id(f) for f in manager.cleanup_transforms] + [id(f) for f in manager.line_transforms]
        + [id(f) for f in manager.token_transformers],
        "AST transformers": lambda: [id(f) for f in shell.ast_transformers]
        + [id(shell.compile), id(type(shell.compile))],
        "run_cell": lambda: [id(type(shell)), id(type(shell).run_cell),
                             id(type(shell).run_cell_async), id(type(shell).run_ast_nodes),
                             id(type(shell).run_code), id(type(shell).transform_cell),
                             id(type(shell).transform_ast)]
        + [name in vars(shell) for name in ("run_cell", "run_cell_async", "run_code",
                                            "run_ast_nodes", "transform_cell", "transform_ast")],
        "tracebacks": lambda: [func(type(shell).showtraceback), func(type(shell)._showtraceback),
                               func(vars(shell).get("showtraceback")),
                               func(vars(shell).get("_showtraceback")),
                               func(sys.excepthook), id(shell.InteractiveTB)],
        "custom exception handlers": lambda: [shell.custom_exceptions, id(shell.CustomTB)],
        "trace hooks": lambda: [sys.gettrace() is None, sys.getprofile() is None],
        "streams": lambda: [id(type(sys.stdout)), id(type(sys.stderr))],
        "user namespace": lambda: [shell.user_ns is namespace,
                                   shell.user_module.__dict__ is namespace],
        "sys.modules": lambda: [name for name, module in module_names.items()
                                if sys.modules.get(name) is not module],
    }
    hook_state = {name: read() for name, read in hooks.items()}
    missing = object()
    bound = {}  # name -> what a locked cell bound it to (missing if it did not)
    shadowable = {name for name in vars(builtins) if not name.startswith("_")}

    def check(where, reads=(), record=()):
        changed = []
        for (modname, name), (module, attr, ident) in snapshot.items():
            obj = vars(module).get(attr, None)
            if identity(obj) != ident:
                changed.append(f"{modname}.{name}")
        for name, read in hooks.items():
            try:
                if read() != hook_state[name]:
                    changed.append(name)
            except Exception:
                changed.append(name)
        for name in reads:
            if name in bound:
                if namespace.get(name, missing) is not bound[name]:
                    changed.append(f"the notebook's name {name}")
            elif name in shadowable and name in namespace:
                if namespace[name] is not vars(builtins).get(name):
                    changed.append(f"the notebook's name {name} (shadows the builtin)")
        for name in record:
            bound[name] = namespace.get(name, missing)
        if changed:
            print(nonce, "TAMPERED:", ", ".join(sorted(changed)[:8]), "before", where)
        else:
            print(nonce, "OK")
    print(nonce, "OK")
    return check
'''


def install_source(nonce: str) -> str:
    return (f"{_INSTALL}\n__autograder_check__ = __autograder_install({nonce!r})\n"
            "del __autograder_install\n")


def check_source(where: str, reads: list[str] = ()) -> str:
    """Check before `where`; `reads`: the names the grade cell there reads."""
    return f"__autograder_check__({where!r}, reads={sorted(reads)!r})\n"


def record_source(where: str, names: list[str]) -> str:
    """After the locked cell `where`: check, then record what `names` refer to now."""
    return f"__autograder_check__({'after ' + where!r}, record={sorted(names)!r})\n"


def read_names(source: str) -> set[str]:
    """Every name a cell reads (anywhere in it: a function it defines looks names up later)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def bound_names(source: str) -> set[str]:
    """The global names a cell binds (imports, assignments, defs, classes; not in functions)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)
    pending = list(ast.iter_child_nodes(tree))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        if not isinstance(node, scopes):
            pending.extend(ast.iter_child_nodes(node))
    return names
