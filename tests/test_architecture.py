"""The layers hold: imports point down, products stay apart, no route is mounted twice.

Reads the source with ``ast`` instead of importing it, so an import inside a function or
under ``TYPE_CHECKING`` counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from fastapi.routing import iter_route_contexts

from roost.api.lean import LeanDispatcher
from roost.app import create_app
from roost.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "roost"
PRODUCTS = "roost.api.compat"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. roost.services.stats
    target: str  # what it imports, e.g. roost.storage.points
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append(Import(module, target, node.lineno))
            # ``from roost.api.compat import other_product`` names a module per alias.
            found.extend(
                Import(module, f"{target}.{alias.name}", node.lineno) for alias in node.names
            )
    return found


def all_imports() -> list[Import]:
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 20, "the source tree was not found"
    return [found for path in paths for found in imports_of(path)]


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def crossings(importer: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        str(found)
        for found in all_imports()
        if within(found.module, importer) and any(within(found.target, f) for f in forbidden)
    ]


def product_of(name: str) -> str | None:
    if not within(name, PRODUCTS) or name == PRODUCTS:
        return None
    return name.split(".")[3]


def test_the_import_walker_sees_real_imports() -> None:
    # Guards the rules below against passing because nothing was read.
    targets = {(found.module, found.target) for found in all_imports()}
    assert ("roost.services.stats", "roost.storage.points") in targets
    assert ("roost.api.compat.statflow.routes", "roost.api.compat.statflow.errors") in targets
    assert ("roost.cli.main", "roost.app") in targets  # imported inside a function


def test_domain_imports_nothing_else_of_roost() -> None:
    outside = [
        str(found)
        for found in all_imports()
        if within(found.module, "roost.domain")
        and within(found.target, "roost")
        and not within(found.target, "roost.domain")
    ]
    assert outside == []


def test_services_import_neither_the_web_layers_nor_web_frameworks() -> None:
    forbidden = ("roost.api", "roost.cli", "roost.web", "roost.app", "fastapi", "starlette")
    assert crossings("roost.services", forbidden) == []


def test_services_never_call_up_into_alerting() -> None:
    # alerting (dispatcher, channels) sits beside the web layers and calls services; the
    # alert engine's hand-off (services.notifications.enqueue) is a service, not a callback.
    assert crossings("roost.services", ("roost.alerting",)) == []


def test_alerting_imports_neither_the_web_layers_nor_web_frameworks() -> None:
    forbidden = ("roost.api", "roost.cli", "roost.web", "roost.app", "fastapi", "starlette")
    assert crossings("roost.alerting", forbidden) == []


def test_storage_imports_no_layer_above_it() -> None:
    forbidden = (
        "roost.services",
        "roost.alerting",
        "roost.api",
        "roost.cli",
        "roost.web",
        "roost.app",
    )
    assert crossings("roost.storage", forbidden) == []


def test_no_product_imports_another_product() -> None:
    crossed = [
        str(found)
        for found in all_imports()
        if (own := product_of(found.module)) is not None
        and (other := product_of(found.target)) is not None
        and own != other
    ]
    assert crossed == []


def mounted_routes(app: LeanDispatcher) -> list[tuple[str, str]]:
    """Every (method, path) served: the lean hot routes, then the FastAPI app behind them.

    Parameter names are blanked, so ``/v1/stats/{id}`` and ``/v1/stats/{stat_id}`` collide.
    """
    pairs = list(app.routes)
    for route in iter_route_contexts(app.app.routes):  # type: ignore[attr-defined]
        methods = route.methods or {"*"}  # "*": mounts and websockets, which have none
        pairs.extend((method, str(route.path)) for method in sorted(methods))
    return [(method, re.sub(r"\{[^}]*\}", "{}", path)) for method, path in pairs]


def test_the_app_mounts_no_method_and_path_twice(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    try:
        pairs = Counter(mounted_routes(app))
    finally:
        app.state.store.close()
    assert ("POST", "/v1/ingest") in pairs
    assert ("GET", "/v1/stats/{}/data") in pairs
    assert [pair for pair, count in pairs.items() if count > 1] == []


def test_web_pages_call_services_never_the_api_or_the_cli() -> None:
    # Pages and the API are siblings over the same services; neither imports the other.
    assert crossings("roost.web", ("roost.api", "roost.cli")) == []
    assert crossings("roost.api", ("roost.web",)) == []
