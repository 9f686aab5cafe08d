"""Imports run one way: no module of ``kg`` imports ``api``, and no import cycle exists in either package.

Every ``import`` and ``from ... import`` statement is read with :mod:`ast`, at any depth (inside functions,
classes, ``if TYPE_CHECKING:`` blocks), so a lazy import that dodges a cycle at run time still counts.
``from pkg import name`` counts as importing ``pkg.name`` when that is a module of the project, else ``pkg``.
Importing ``a.b.c`` does not count as importing its parents ``a`` and ``a.b``: Python runs their
``__init__`` first, but a package that imports its own submodules (to register them) is not a cycle.
An ``if __name__ == "__main__":`` block is left out: it runs only when the module is the program
(``python -m kg.synth``), and then nothing imports it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kg", "api")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module ``name`` means (itself, or its nearest enclosing module), or None if outside."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _main_block(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` at the top of a module."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported project module, line) for every import statement of ``module``."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    tree.body = [node for node in tree.body if not _main_block(node)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target is not None:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in MODULES else _resolve(base)
                if target is not None:
                    yield target, node.lineno


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module, path in MODULES.items():
        for target, line in _imports(module, path):
            if target != module:
                graph.add_edge(module, target, line=line)
    return graph


GRAPH = _graph()


def test_the_scan_sees_the_project() -> None:
    # Guards the scan itself: if it found nothing, the tests below would pass vacuously.
    assert len(MODULES) > 40
    assert GRAPH.has_edge("api.main", "api.deps")
    assert GRAPH.number_of_edges() > 150


def test_kg_never_imports_api() -> None:
    upward = [f"{a} (line {GRAPH.edges[a, b]['line']}) imports {b}" for a, b in GRAPH.edges
              if a.split(".")[0] == "kg" and b.split(".")[0] == "api"]
    assert not upward, "kg must not import api:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    cycles = []
    for component in nx.strongly_connected_components(GRAPH):
        if len(component) > 1:
            cycle = nx.find_cycle(GRAPH.subgraph(component))
            cycles.append(" -> ".join(f"{a} (line {GRAPH.edges[a, b]['line']})" for a, b in cycle)
                          + f" -> {cycle[0][0]}")
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


# Floors, bottom to top: a module imports only from its own floor or below. A module's floor is that of the
# longest prefix listed (``kg.rdf.export`` is a service although the rest of ``kg.rdf`` loads data).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vocabulary", ("kg", "kg.errors", "kg.namespaces", "kg.ontology", "kg.files")),
    ("model and schema", ("kg.model", "kg.schema", "kg.rows", "kg.snapshot", "kg.snapshot_delta", "kg.synth",
                          "kg.search", "kg.live.events")),
    ("load", ("kg.load", "kg.rdf", "kg.gis.geometry", "kg.gis.read", "kg.gis.exposures")),
    ("store", ("kg.store",)),
    ("analysis", ("kg.analysis", "kg.executor")),
    ("services", ("kg.answers", "kg.scenario", "kg.ingest", "kg.settings", "kg.plot", "kg.sparql", "kg.rdf.export",
                  "kg.rdf.select", "kg.live", "kg.gis", "kg.assistants")),
    ("faces", ("kg.cli", "api")),
)


def _floor(module: str) -> int:
    best, floor = -1, -1
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), number
    assert floor >= 0, f"{module} is on no floor of LAYERS; add it where it belongs"
    return floor


def test_every_module_has_a_floor() -> None:
    for module in MODULES:
        _floor(module)
    assert _floor("kg.rdf.export") > _floor("kg.rdf.reader") > _floor("kg.schema")  # the prefix rule itself


def test_imports_run_down_the_floors() -> None:
    upward = []
    for a, b in GRAPH.edges:
        if _floor(b) > _floor(a):
            upward.append(f"{a} ({LAYERS[_floor(a)][0]}, line {GRAPH.edges[a, b]['line']}) imports {b} "
                          f"({LAYERS[_floor(b)][0]})")
    assert not upward, "imports must run down the floors (vocabulary -> model and schema -> load -> store -> " \
                       "analysis -> services -> faces):\n" + "\n".join(sorted(upward))
