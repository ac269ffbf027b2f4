"""The import structure of `server/manyskills`, read from the source with `ast` (nothing is imported).

Every import counts, including ones inside functions: a lazy import still ties the two modules
together, it only hides the tie from the interpreter. Three rules:

1. No import cycle among modules.
2. Imports between packages only go downwards, along LAYERS below. Packages in one layer are
   siblings and do not import each other.
3. `lsp/` is a star: handler modules (lsp/handlers/) are imported only by the route table
   (lsp/routes.py), and no handler imports another; the session (lsp/session.py) imports no handler.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "server" / "manyskills"

# The allowed direction, bottom first: a module may import its own package and any lower layer.
#   index    tree-sitter parsing and function indexing: knows nothing else of ManySkills
#   model    the causal LM, adapter and engine;  data: building training data from code (uses index)
#   settings the user settings (validates languages against index and model names against the model
#            registry; neither model nor data reads settings: callers pass them the values they need)
#   analysis findings from model results;       training: the adapter's trainer and evaluation
#   lsp      the language server;                service: the model service and Ray backends
#   cli      the `manyskills` commands, which pick the pieces (e.g. local model or service) and start them
LAYERS: tuple[tuple[str, ...], ...] = (
    ("manyskills", "stats"),  # the package root (its version); stats: AUROC and Jaccard, shared by data and training
    ("index",),
    ("model", "data"),
    ("settings",),
    ("analysis", "training"),
    ("lsp", "service"),
    ("cli",),
    ("__main__",),
)
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}

# Known edges that break the rules, left for the helpers untangling those areas (issue 19). Each entry
# is (importer, imported) module names; the test fails on any edge not listed here, and on any entry
# here that no longer exists (so the list only shrinks).
PENDING_UNTANGLE: frozenset[tuple[str, str]] = frozenset()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ManySkills modules `name` imports (a `from package import name` of a submodule counts as
    importing the submodule)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target != "manyskills" and not target.startswith("manyskills."):
                continue
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _cycle_edges(graph: dict[str, set[str]], component: list[str]) -> set[tuple[str, str]]:
    members = set(component)
    return {(a, b) for a in component for b in graph[a] if b in members}


def upward_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    bad = set()
    for importer, imported in ((a, b) for a, targets in graph.items() for b in targets):
        src, dst = package_of(importer), package_of(imported)
        if src != dst and RANK[dst] >= RANK[src]:
            bad.add((importer, imported))
    return bad


def star_violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    handlers = "manyskills.lsp.handlers."
    bad = set()
    for importer, targets in graph.items():
        for imported in targets:
            if not imported.startswith(handlers):
                continue
            if importer.startswith(handlers) or importer != "manyskills.lsp.routes":
                bad.add((importer, imported))
    return bad


def _describe(edges: set[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b}  ({package_of(a)} -> {package_of(b)})" for a, b in sorted(edges))


def test_every_package_has_a_layer():
    packages = {package_of(m) for m in _modules()}
    assert packages - set(RANK) == set(), "add new packages to LAYERS (and say why there)"


def test_no_import_cycles():
    graph = import_graph()
    trimmed = {a: {b for b in targets if (a, b) not in PENDING_UNTANGLE} for a, targets in graph.items()}
    problems = [f"cycle among {len(c)} modules:\n{_describe(_cycle_edges(trimmed, c))}" for c in cycles(trimmed)]
    assert not problems, "import cycles (break them; see docs/architecture.md):\n" + "\n".join(problems)


def test_imports_go_down_the_layers():
    bad = upward_edges(import_graph()) - PENDING_UNTANGLE
    assert not bad, ("imports against the layer order (LAYERS in this file, docs/architecture.md):\n"
                     + _describe(bad))


def test_lsp_is_a_star():
    bad = star_violations(import_graph()) - PENDING_UNTANGLE
    assert not bad, "lsp/handlers/* may be imported only by lsp/routes.py:\n" + _describe(bad)


def test_pending_list_only_names_edges_that_exist():
    graph = import_graph()
    existing = {(a, b) for a, targets in graph.items() for b in targets}
    gone = PENDING_UNTANGLE - existing
    assert not gone, "these PENDING_UNTANGLE edges are gone; delete them from the list:\n" + _describe(gone)


def test_the_checks_catch_what_they_claim():
    """The rules themselves, on a made-up graph: a cycle, an upward edge, a handler imported twice."""
    graph = {
        "manyskills.index.a": {"manyskills.index.b"},
        "manyskills.index.b": {"manyskills.index.a"},
        "manyskills.model.engine": {"manyskills.lsp.server", "manyskills.index.a"},
        "manyskills.lsp.server": set(),
        "manyskills.lsp.routes": {"manyskills.lsp.handlers.hover"},
        "manyskills.lsp.handlers.hover": {"manyskills.lsp.handlers.pull"},
        "manyskills.lsp.handlers.pull": set(),
    }
    assert cycles(graph) == [["manyskills.index.a", "manyskills.index.b"]]
    assert upward_edges(graph) == {("manyskills.model.engine", "manyskills.lsp.server")}
    assert star_violations(graph) == {("manyskills.lsp.handlers.hover", "manyskills.lsp.handlers.pull")}
