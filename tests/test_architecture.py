"""The grader's layout: one subpackage per phase, each saying its job, and no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograder"
# The example class is data (hundreds of generated notebooks), not part of the import graph.
SKIP = {"submitted"}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the `autograder` package."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if SKIP & set(rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The `autograder` modules `name` imports anywhere in its file (functions included)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a.b import c` imports module a.b.c when there is one, else names of a.b
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]  # `import a.b.c` of a name inside a.b
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None when the graph is acyclic."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return path[path.index(child):] + [child]
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return None


def test_the_graph_sees_the_imports_it_should():
    graph = import_graph()
    assert "autograder.sandbox.policy" in graph["autograder.sandbox.kernel_manager"] | graph[
        "autograder.sandbox.warm_kernels"]
    assert "autograder.gradebook.batch" in graph["autograder.cli"]  # a function-level import
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_autograder_modules_import_each_other_without_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, (
        "import cycle among autograder modules: " + " -> ".join(cycle or [])
        + ". Move what both need into a module lower down (one job per module), so the "
        "imports point one way.")


def test_every_subpackage_says_its_job_in_one_line():
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if SKIP & set(init.relative_to(ROOT).parts) or init.parent.name == "examples":
            continue
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "\n" not in doc.strip(), (
            f"{init.relative_to(ROOT)}: give the package a one-line docstring saying its job")
