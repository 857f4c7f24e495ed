"""docs/stathat.md cannot drift: its curl examples are the example script's calls, in order,
and that script passes against a real ``roost serve`` on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from roostserver import create_key, roost_env, roost_server, run_roost
from test_docs import code_blocks, shell_commands

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "stathat.md"
SCRIPT = ROOT / "docs" / "examples" / "stathat.sh"
ALIAS = "ops@example.com"


def page_curl_arguments() -> list[str]:
    commands = shell_commands(code_blocks(PAGE.read_text(encoding="utf-8")))
    return [command.removeprefix("curl -s ") for command in commands if command.startswith("curl ")]


def script_call_arguments() -> list[str]:
    commands = shell_commands(SCRIPT.read_text(encoding="utf-8"))
    return [re.sub(r"^call \d{3} ", "", c) for c in commands if re.match(r"call \d{3} ", c)]


def test_page_curl_examples_are_the_example_script_calls_in_order() -> None:
    found = page_curl_arguments()
    assert len(found) == 20
    assert found == script_call_arguments()


def test_example_script_passes_against_a_real_server(tmp_path: Path) -> None:
    assert shutil.which("curl"), "the examples need curl: apt-get install -y curl"
    env = roost_env(tmp_path / "data")
    key = create_key(env, "stathat-docs", scopes="read,write")
    aliased = run_roost(env, "keys", "create", "--project", "stathat-docs", "--alias", ALIAS)
    assert aliased.returncode == 0, aliased.stderr
    # The "StatHat account" to import from: another project on the same server.
    token = create_key(env, "stathat-account", scopes="read,write")
    log = tmp_path / "server.log"
    with roost_server(env, log) as server:
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            env={
                **env,
                "BASE": server.base_url,
                "KEY": key,
                "ALIAS": ALIAS,
                "STATHAT_URL": server.base_url,
                "STATHAT_TOKEN": token,
                "PYTHON": sys.executable,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{log.read_text()}"
    assert result.stdout.rstrip().endswith("all StatHat examples answered as documented")
