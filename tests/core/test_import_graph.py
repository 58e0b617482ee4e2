"""No import cycle between apps, counting imports inside functions (docs/architecture.md).

Every ``import`` statement under ``apps/`` and ``gaia_web/`` is read from the source, wherever it
sits (module level, function, method), together with ``importlib.import_module("literal")`` calls,
and mapped to its app (``apps.<name>``, or ``gaia_web``). A function-level import only delays a
dependency; it does not remove it, so it counts like any other. Migrations are left out: they
name other apps by string (``"catalog.target"``), which is the database schema, not an import.
Autodiscovery (``import_module(f"{config.name}.tasks")``) names no app and is not an edge.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("apps", "gaia_web")

#: Apps that serve every other one; they import no domain app (they are linked from the other side).
INFRASTRUCTURE = {"apps.core", "apps.accounts", "apps.jobs", "apps.plots"}

#: The one-way flow of docs/architecture.md, lowest first: an app imports only from lower layers.
LAYERS = [
    {"apps.core"},
    {"apps.accounts", "apps.plots"},
    {"apps.jobs"},
    {"apps.catalog"},
    {"apps.archive"},
    {"apps.lightcurves"},
    {"apps.galex", "apps.ml"},
    {"apps.vetting"},
    {"apps.scale"},
    {"gaia_web"},
]

Graph = dict[str, dict[str, list[str]]]


def app_of(module: str) -> str | None:
    """``apps.catalog.models`` → ``apps.catalog``; ``gaia_web.urls`` → ``gaia_web``; else None."""
    parts = module.split(".")
    if parts[0] == "apps" and len(parts) > 1:
        return f"apps.{parts[1]}"
    if parts[0] == "gaia_web":
        return "gaia_web"
    return None


def module_name(path: Path, root: Path) -> tuple[str, str]:
    """(dotted module name, the package relative imports start from) of a source file."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def imported_modules(source: str, package: str) -> list[tuple[str, int]]:
    """(module, line) of every import in ``source``, at any depth, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                found.append((".".join(base + ([node.module] if node.module else [])), node.lineno))
            else:
                found.append((node.module or "", node.lineno))
        elif _is_literal_import_module(node):
            found.append((node.args[0].value, node.lineno))
    return found


def _is_literal_import_module(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
    first = node.args[0]
    return name == "import_module" and isinstance(first, ast.Constant) and isinstance(first.value, str)


def build_graph(root: Path = REPO_ROOT) -> Graph:
    """app → {app it imports: ["path:line", ...]} over every non-migration source file."""
    graph: Graph = defaultdict(lambda: defaultdict(list))
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            name, package = module_name(path, root)
            source_app = app_of(name)
            for imported, line in imported_modules(path.read_text(encoding="utf-8"), package):
                target = app_of(imported)
                if target and target != source_app:
                    graph[source_app][target].append(f"{path.relative_to(root)}:{line}")
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search with colours)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def describe(graph: Graph, cycle: list[str]) -> str:
    return "\n".join(
        f"{a} -> {b}: {', '.join(graph[a][b][:5])}" for a, b in zip(cycle, cycle[1:], strict=False)
    )


def test_no_import_cycle_between_apps() -> None:
    graph = build_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between apps:\n" + describe(graph, cycle)


def test_infrastructure_imports_no_domain_app() -> None:
    graph = build_graph()
    upward = {
        f"{app} -> {target}": where[:3]
        for app in INFRASTRUCTURE
        for target, where in graph.get(app, {}).items()
        if target not in INFRASTRUCTURE
    }
    assert not upward, upward


def test_every_import_points_down_the_layers() -> None:
    rank = {app: level for level, apps in enumerate(LAYERS) for app in apps}
    graph = build_graph()
    nodes = set(graph) | {target for targets in graph.values() for target in targets}
    unknown = sorted(nodes - set(rank))
    assert not unknown, f"apps missing from LAYERS (docs/architecture.md): {unknown}"
    upward = {
        f"{app} -> {target}": where[:3]
        for app, targets in graph.items()
        for target, where in targets.items()
        if rank[target] >= rank[app]
    }
    assert not upward, upward


def test_imports_inside_functions_and_import_module_count(tmp_path: Path) -> None:
    """The graph sees an import hidden in a function and a literal import_module: a cycle is found."""
    (tmp_path / "apps" / "one").mkdir(parents=True)
    (tmp_path / "apps" / "two").mkdir(parents=True)
    (tmp_path / "gaia_web").mkdir()
    (tmp_path / "apps" / "one" / "models.py").write_text(
        "def f():\n    from apps.two.models import X\n    return X\n"
    )
    (tmp_path / "apps" / "two" / "models.py").write_text(
        "import importlib\nY = importlib.import_module('apps.one.models')\n"
    )
    (tmp_path / "apps" / "two" / "migrations").mkdir()
    (tmp_path / "apps" / "two" / "migrations" / "0001.py").write_text("from apps.one import models\n")
    graph = build_graph(tmp_path)
    assert graph["apps.one"]["apps.two"] == ["apps/one/models.py:2"]
    assert graph["apps.two"]["apps.one"] == ["apps/two/models.py:2"]
    assert find_cycle(graph) == ["apps.one", "apps.two", "apps.one"]


def test_relative_imports_resolve_to_their_app() -> None:
    assert imported_modules("from ..catalog import models\n", "apps.jobs") == [("apps.catalog", 1)]
    assert imported_modules("from . import x\n", "apps.jobs") == [("apps.jobs", 1)]
