"""docs/honeyhive.md cannot drift: its curl examples are the example script's calls, in order,
and that script passes against a real ``roost serve`` on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from example_scripts import page_curl_arguments, run_against_server, script_call_arguments
from roost.api.registry import PRODUCTS
from roostserver import create_key, roost_env
from test_docs import normalise_route

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "honeyhive.md"
SCRIPT = ROOT / "docs" / "examples" / "honeyhive.sh"


def test_page_curl_examples_are_the_example_script_calls_in_order() -> None:
    assert page_curl_arguments(PAGE)
    assert page_curl_arguments(PAGE) == script_call_arguments(SCRIPT)


def test_page_names_every_honeyhive_and_otlp_route() -> None:
    page = normalise_route(PAGE.read_text(encoding="utf-8"))
    routes = set()
    for product in PRODUCTS:
        if product.name in ("honeyhive", "otlp"):
            routes |= {f"{method} {normalise_route(path)}" for method, path in product.lean_routes}
            for route in product.router.routes:
                for method in getattr(route, "methods", None) or ():
                    routes.add(f"{method} {normalise_route(route.path)}")  # type: ignore[attr-defined]
    assert routes
    missing = sorted(route for route in routes if f"`{route}`" not in page)
    assert not missing, f"docs/honeyhive.md does not document {missing}"


def test_example_script_passes_against_a_real_server(tmp_path: Path) -> None:
    env = roost_env(tmp_path / "data")
    key = create_key(env, "honeyhive-docs", scopes="read,write")
    printed = run_against_server(SCRIPT, env, key, tmp_path / "server.log")
    assert printed.endswith("all HoneyHive and OTLP examples answered as documented")
