"""The docs cannot drift: generated pages match the code, and examples run against a server.

- docs/configuration.md must equal what scripts/gen_config_docs.py renders from Settings.
- Every ``curl -s …`` example in README.md must be a ``call <status> …`` line of
  docs/examples/statflow.sh, in the same order, and that script must pass against a real
  ``roost serve`` on 127.0.0.1.
- The quickstart's chart script must draw a real ``/data`` answer.
- docs/statflow.md must name every StatFlow route, and the docs may only name real settings.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import example_scripts
from example_scripts import page_curl_arguments
from roost.api.registry import PRODUCTS
from roost.domain.keys import KEY_PATTERN
from roost.settings import Settings
from roostserver import create_key, roost_env, roost_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
STATFLOW_PAGE = ROOT / "docs" / "statflow.md"
QUICKSTART = ROOT / "docs" / "quickstart.md"
EXAMPLE_SCRIPT = ROOT / "docs" / "examples" / "statflow.sh"
GENERATOR = ROOT / "scripts" / "gen_config_docs.py"

SCRIPT_SECONDS = 120


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_config_docs", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_curl_arguments() -> list[str]:
    return page_curl_arguments(README)


def script_call_arguments() -> list[str]:
    return example_scripts.script_call_arguments(EXAMPLE_SCRIPT)


def normalise_route(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{id}", path)


def statflow_routes() -> set[str]:
    """``METHOD /path`` of every StatFlow route, from the registry the app is built from."""
    product = next(product for product in PRODUCTS if product.name == "statflow")
    found = {f"{method} {normalise_route(path)}" for method, path in product.lean_routes}
    for route in product.router.routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add(f"{method} {normalise_route(route.path)}")  # type: ignore[attr-defined]
    return found


# -- generated and cross-checked pages -----------------------------------------------------


def test_configuration_page_is_what_the_generator_renders_from_settings() -> None:
    generator = load_generator()
    committed = generator.OUTPUT.read_text(encoding="utf-8")
    assert committed == generator.render(), (
        f"docs/configuration.md is stale; regenerate it with: {generator.COMMAND}"
    )


def test_every_roost_variable_named_in_the_docs_is_a_real_setting() -> None:
    known = {f"ROOST_{name.upper()}" for name in Settings.model_fields}
    pages = [README, *sorted((ROOT / "docs").rglob("*.md")), EXAMPLE_SCRIPT]
    for page in pages:
        named = set(re.findall(r"\bROOST_[A-Z][A-Z0-9_]*", page.read_text(encoding="utf-8")))
        assert named <= known, f"{page.relative_to(ROOT)} names unknown settings {named - known}"


def test_readme_curl_examples_are_the_example_script_calls_in_order() -> None:
    readme = readme_curl_arguments()
    assert readme, "README.md has no `curl -s …` examples"
    assert readme == script_call_arguments(), (
        "README.md's `curl -s …` examples and docs/examples/statflow.sh's `call <status> …` "
        "lines must be the same commands in the same order"
    )


def test_statflow_reference_names_every_statflow_route() -> None:
    page = normalise_route(STATFLOW_PAGE.read_text(encoding="utf-8"))
    missing = sorted(route for route in statflow_routes() if f"`{route}`" not in page)
    assert not missing, f"docs/statflow.md does not document {missing}"


# -- the example script against a real server ----------------------------------------------


@dataclass(frozen=True)
class RunningServer:
    base: str
    key: str
    env: dict[str, str]
    log: Path

    def post(self, path: str, body: bytes) -> int:
        request = urllib.request.Request(
            self.base + path,
            data=body,
            headers={"Authorization": f"Bearer {self.key}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
            return status

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {self.key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
            return body


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``roost serve`` on 127.0.0.1 with a fresh SQLite data directory and an admin key."""
    tmp = tmp_path_factory.mktemp("docs-server")
    env = roost_env(tmp / "data")
    key = create_key(env, "docs", scopes="read,write,admin")
    assert KEY_PATTERN.match(key), f"keys create printed more than a key: {key!r}"
    log = tmp / "server.log"
    with roost_server(env, log) as server:
        yield RunningServer(server.base_url, key, env, log)


def test_example_script_passes_against_a_real_server(docs_server: RunningServer) -> None:
    assert shutil.which("curl"), "the README's examples need curl: apt-get install -y curl"
    result = subprocess.run(
        ["bash", str(EXAMPLE_SCRIPT)],
        env={
            **docs_server.env,
            "BASE": docs_server.base,
            "KEY": docs_server.key,
            "PYTHON": sys.executable,
        },
        capture_output=True,
        text=True,
        timeout=SCRIPT_SECONDS,
    )
    command = shlex.join(["bash", str(EXAMPLE_SCRIPT.relative_to(ROOT))])
    assert result.returncode == 0, (
        f"{command} failed:\n{result.stdout}\n{result.stderr}\n"
        f"server log:\n{docs_server.log.read_text()}"
    )
    assert result.stdout.rstrip().endswith("all StatFlow examples answered as documented")


def test_quickstart_chart_script_draws_a_real_data_answer(docs_server: RunningServer) -> None:
    blocks = re.findall(r"```python\n(.*?)```", QUICKSTART.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1, "docs/quickstart.md should have exactly one python block (chart.py)"
    for value in (1, 3, 2):
        body = f'{{"stat": "docs.chart", "value": {value}}}'.encode()
        assert docs_server.post("/v1/ingest", body) == 202
    stats = json.loads(docs_server.get("/v1/stats"))["stats"]
    stat_id = next(stat["id"] for stat in stats if stat["name"] == "docs.chart")
    answer = docs_server.get(f"/v1/stats/{stat_id}/data?resolution=1h")

    drawn = subprocess.run(
        [sys.executable, "-c", blocks[0]],
        input=answer.decode(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    title, *bars = drawn.stdout.splitlines()
    assert title == "docs.chart, counter per 1h"
    assert len(bars) == len(json.loads(answer)["points"])
    labels = [float(bar.split()[-1]) for bar in bars if bar.split()[-1][0].isdigit()]
    assert sum(labels) == 6, "every bucket is drawn with its sum, and the sums add up"
    assert any("#" * 40 in bar for bar in bars), "the largest bucket fills the width"
