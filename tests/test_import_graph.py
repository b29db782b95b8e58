"""No import cycle among the project's own modules (dagster_project/, dashboards/, tools/).

A cycle works only as long as every module of it happens to be imported in one order, and
it hides which module builds on which. The graph is read from the source with `ast`, so
it also holds the imports inside functions (the ones that are deferred to dodge a cycle
are the ones that matter here) and those behind `if TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dagster_project", "dashboards", "tools")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES
            for p in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` (at `path`) imports anywhere in its body. An import names
    one module: `from pkg import x` is pkg.x when that is a module, else pkg itself. The
    parent packages Python initialises on the way are not edges of their own."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known
                          else source)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None (depth-first, in name order)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return path[path.index(target):] + [target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_find_cycle_names_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_relative_module_level_and_function_level_imports():
    graph = import_graph()
    # relative, at module level: `from .workflow import Workflow`
    assert "dagster_project.lib.remediation.workflow" in graph[
        "dagster_project.lib.remediation.changes"]
    # `from . import rules`: the module rules, not the package
    assert "dagster_project.lib.remediation.rules" in graph[
        "dagster_project.lib.remediation.workflow"]
    # inside a function: the board is imported only when `qloop board` runs
    assert "dashboards.app" in graph["dagster_project.cli"]
    assert len(graph) > 100


def test_no_import_cycle_among_the_projects_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
