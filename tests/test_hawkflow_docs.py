"""docs/hawkflow.md cannot drift: its curl examples are the example script's calls, in order,
and that script passes against a real ``roost serve`` on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from example_scripts import page_curl_arguments, run_against_server, script_call_arguments
from roostserver import create_key, roost_env

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "hawkflow.md"
SCRIPT = ROOT / "docs" / "examples" / "hawkflow.sh"


def test_page_curl_examples_are_the_example_script_calls_in_order() -> None:
    assert page_curl_arguments(PAGE) == script_call_arguments(SCRIPT)


def test_example_script_passes_against_a_real_server(tmp_path: Path) -> None:
    env = roost_env(tmp_path / "data")
    key = create_key(env, "hawkflow-docs", scopes="read,write")
    printed = run_against_server(SCRIPT, env, key, tmp_path / "server.log")
    assert printed.endswith("all HawkFlow examples answered as documented")
