"""Grader-inserted cells that detect tampering with numpy, coursekit, builtins or IPython.

`install_source` runs first, before any student code: it imports numpy and coursekit's checking
modules and snapshots the identity (and `__code__`/`__defaults__`) of every callable they export,
the builtins, and IPython's execution machinery (input/AST transformers, `run_cell`,
`showtraceback`, `sys.excepthook`, trace hooks, output streams). `check_source` runs before
every grade cell and once at the end: it prints `<nonce> OK` when nothing changed and
`<nonce> TAMPERED: <what>` otherwise. The grader reads those lines after execution; a check
that reports tampering, fails, or stays silent while its kernel lived zeroes the notebook.

This is an in-kernel defence: it catches patching of the functions the checks use (the attack in
the threat model). A submission that rewrites the check cells themselves through IPython
internals is a different attack; the check snapshot also covers the machinery that makes that
possible (transformers, run_cell), so installing it is reported.
"""

from __future__ import annotations

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
    hooks = {
        "input transformers": lambda: [id(f) for f in shell.input_transformers_cleanup]
        + [id(f) for f in shell.input_transformers_post],
        "AST transformers": lambda: [id(f) for f in shell.ast_transformers],
        "run_cell": lambda: [id(type(shell).run_cell), id(type(shell).run_cell_async),
                             id(type(shell).run_ast_nodes), id(type(shell).run_code),
                             "run_cell" in vars(shell), "run_cell_async" in vars(shell),
                             "run_code" in vars(shell), "run_ast_nodes" in vars(shell)],
        "tracebacks": lambda: [func(type(shell).showtraceback), func(type(shell)._showtraceback),
                               func(vars(shell).get("showtraceback")),
                               func(vars(shell).get("_showtraceback")),
                               func(sys.excepthook), id(shell.InteractiveTB)],
        "trace hooks": lambda: [sys.gettrace() is None, sys.getprofile() is None],
        "streams": lambda: [id(type(sys.stdout)), id(type(sys.stderr))],
    }
    hook_state = {name: read() for name, read in hooks.items()}

    def check(where):
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


def check_source(where: str) -> str:
    return f"__autograder_check__({where!r})\n"
