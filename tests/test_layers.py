"""Layers point one way (DESIGN.md): the imports of every module under `market/` and `services/`, read from
the source (nothing is imported), checked against three rules:

- layers: config ← common ← events ← accounts ← catalog ← trading ← services/*; a module imports only its own
  package and packages below it (`market.config.urls` and `market.config.celery` wire the whole project
  together and sit on top);
- no cycles between production modules (an import inside a function counts: it is a dependency all the same);
- production never imports the development tooling (`market.localdev`, `market.demo`); those may import
  anything, and so may tests and benchmarks, which are not walked.

Each rule is a function over a plain `{module: {imported module, ...}}` graph, proved on small crafted graphs
below, so the test fails when someone adds such an import."""

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("market", "services")
#: lowest first; a package may import its own layer and those before it
LAYERS: tuple[tuple[str, ...], ...] = (
    ("market.config",),
    ("market.common",),
    ("market.events",),
    ("market.accounts",),
    ("market.catalog",),
    ("market.trading",),
    ("services.common",),
    ("services.audit", "services.search", "services.notify", "services.stats"),
)
#: the composition root: the URL table and the Celery app name every app's module on purpose
WIRING = ("market.config.urls", "market.config.celery")
DEVELOPMENT = ("market.localdev", "market.demo")

Graph = Mapping[str, set[str]]


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = REPO, roots: Iterable[str] = ROOTS) -> dict[str, set[str]]:
    """Every module of the project and the project modules it imports, wherever the import statement is (at
    the top, in a function, under TYPE_CHECKING). `from package import name` counts as an import of
    `package.name` when that is a module, else of `package`."""
    files = {_module_name(path, root): path for top in roots for path in sorted((root / top).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                imported.update(
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                )
        graph[module] = {name for name in imported if _owner(name, files) and name != module}
    return graph


def _owner(name: str, modules: Iterable[str]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _layer(module: str) -> int | None:
    for rank, packages in enumerate(LAYERS):
        if _within(module, packages):
            return rank
    return None


def layer_violations(graph: Graph) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a package imports one above it, or another package of its layer."""
    found = []
    for module, imported in graph.items():
        if _within(module, WIRING) or _within(module, DEVELOPMENT):
            continue
        rank = _layer(module)
        if rank is None:
            continue
        own = next(package for package in LAYERS[rank] if _within(module, (package,)))
        for name in imported:
            other = _layer(name)
            if other is None or other < rank or _within(name, (own,)):
                continue
            found.append((module, name))
    return sorted(found)


def development_imports(graph: Graph) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a production module imports development tooling."""
    return sorted(
        (module, name)
        for module, imported in graph.items()
        if not _within(module, DEVELOPMENT)
        for name in imported
        if _within(name, DEVELOPMENT)
    )


def import_cycles(graph: Graph) -> list[list[str]]:
    """The import cycles among modules, one per strongly connected component (Tarjan's algorithm, iterative),
    each sorted, the list sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return sorted(cycles)


# ---- the project ----------------------------------------------------------------------------------------

GRAPH = import_graph()


def test_the_walk_sees_the_whole_project():
    assert {"market.config.settings", "market.common.errors", "services.notify.consumer"} <= set(GRAPH)
    assert "market.events.publishing" in GRAPH["market.catalog.services"]
    assert "market.common.errors" in GRAPH["services.notify.services.subscriptions"]


def test_every_import_points_down_the_layers():
    assert layer_violations(GRAPH) == []


def test_no_two_modules_import_each_other():
    assert import_cycles(GRAPH) == []


def test_production_never_imports_development_tooling():
    assert development_imports(GRAPH) == []


def test_a_production_process_loads_only_the_app_configs_of_the_development_apps():
    """The development apps are installed (for their commands); Django then loads their package and apps.py,
    and the web server, the consumers and the workers nothing more of them."""
    script = (
        "import json, sys, django; django.setup();"
        "import market.config.wsgi, market.config.urls, market.config.celery, market.events.relay;"
        "from services.common.registry import CONSUMERS, consumer_spec;"
        "[consumer_spec(name) for name in CONSUMERS];"
        "from market.config.celery import app; app.autodiscover_tasks(force=True);"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({DEVELOPMENT!r}))))"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "market.config.settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True, check=True
    )
    assert json.loads(loaded.stdout.splitlines()[-1]) == [
        "market.demo",
        "market.demo.apps",
        "market.localdev",
        "market.localdev.apps",
    ]


# ---- the rules, on crafted graphs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("importer", "imported", "refused"),
    [
        ("market.common.permissions", "market.accounts.models", True),  # common reaching up into an app
        ("market.events.schemas", "market.catalog.models", True),  # events are below every app
        ("market.accounts.apis", "market.catalog.serializers", True),
        ("market.catalog.services", "market.trading.models", True),
        ("market.catalog.selectors", "services.search.queries", True),  # the core never calls services/
        ("services.search.indexer", "services.notify.matching", True),  # two consumers of one layer
        ("market.catalog.services", "market.accounts.models", False),
        ("market.trading.services.auctions", "market.events.catalogue", False),
        ("market.accounts.apis", "market.common.errors", False),
        (
            "services.notify.selectors",
            "market.catalog.selectors",
            False,
        ),  # services/* call the core's selectors
        ("market.config.urls", "services.notify.urls", False),  # the composition root
        ("market.localdev.processes", "services.common.registry", False),
        ("market.catalog.services", "market.catalog.models", False),
    ],
)
def test_the_layer_rule(importer, imported, refused):
    assert layer_violations({importer: {imported}}) == ([(importer, imported)] if refused else [])


@pytest.mark.parametrize(
    ("graph", "cycles"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
    ],
)
def test_the_cycle_rule(graph, cycles):
    assert import_cycles(graph) == cycles


@pytest.mark.parametrize(
    ("importer", "imported", "refused"),
    [
        ("market.common.shutdown", "market.localdev.supervisor", True),
        ("services.common.consumer", "market.localdev.embedded", True),
        ("market.catalog.apis", "market.demo.seeding", True),
        ("market.localdev.processes", "market.localdev.embedded", False),
        ("market.demo.seeding", "market.catalog.models", False),
    ],
)
def test_the_development_rule(importer, imported, refused):
    assert development_imports({importer: {imported}}) == ([(importer, imported)] if refused else [])


def test_imports_are_read_wherever_they_are(tmp_path):
    """At the top, relative, under TYPE_CHECKING, inside a function: each is a dependency."""
    for package in ("market", "market/common", "market/accounts", "market/localdev"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "market" / "common" / "errors.py").write_text("")
    (tmp_path / "market" / "localdev" / "supervisor.py").write_text("")
    (tmp_path / "market" / "common" / "tools.py").write_text(
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "from . import errors\n"
        "if TYPE_CHECKING:\n    import market.accounts\n"
        "def later():\n    from market.localdev import supervisor\n"
    )
    graph = import_graph(tmp_path, roots=("market",))
    assert graph["market.common.tools"] == {
        "market.common.errors",
        "market.accounts",
        "market.localdev.supervisor",
    }
    assert development_imports(graph) == [("market.common.tools", "market.localdev.supervisor")]
    assert layer_violations(graph) == [("market.common.tools", "market.accounts")]
