"""docs/stathat.md cannot drift: its curl examples are the example script's calls, in order,
and that script passes against a real ``roost serve`` on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from example_scripts import page_curl_arguments, run_against_server, script_call_arguments
from roostserver import create_key, roost_env, run_roost

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "stathat.md"
SCRIPT = ROOT / "docs" / "examples" / "stathat.sh"
ALIAS = "ops@example.com"


def test_page_curl_examples_are_the_example_script_calls_in_order() -> None:
    found = page_curl_arguments(PAGE)
    assert len(found) == 26
    assert found == script_call_arguments(SCRIPT)


def test_example_script_passes_against_a_real_server(tmp_path: Path) -> None:
    env = roost_env(tmp_path / "data")
    key = create_key(env, "stathat-docs", scopes="read,write")
    aliased = run_roost(env, "keys", "create", "--project", "stathat-docs", "--alias", ALIAS)
    assert aliased.returncode == 0, aliased.stderr
    # The "StatHat account" to import from: another project on the same server.
    token = create_key(env, "stathat-account", scopes="read,write")
    printed = run_against_server(
        SCRIPT,
        env,
        key,
        tmp_path / "server.log",
        ALIAS=ALIAS,
        STATHAT_URL="{BASE}",
        STATHAT_TOKEN=token,
    )
    assert printed.endswith("all StatHat examples answered as documented")
