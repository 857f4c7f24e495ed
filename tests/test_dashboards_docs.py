"""docs/dashboards.md cannot drift: its curl examples are the example script's calls, in order,
and that script passes against a real ``roost serve`` on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from example_scripts import page_curl_arguments, script_call_arguments
from roostserver import create_key, roost_env, roost_server

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "dashboards.md"
SCRIPT = ROOT / "docs" / "examples" / "dashboards.sh"


def test_page_curl_examples_are_the_example_script_calls_in_order() -> None:
    found = page_curl_arguments(PAGE)
    assert len(found) == 17
    assert found == script_call_arguments(SCRIPT)


def test_example_script_passes_against_a_real_server(tmp_path: Path) -> None:
    assert shutil.which("curl"), "the examples need curl: apt-get install -y curl"
    env = roost_env(tmp_path / "data")
    key = create_key(env, "dashboards-docs", scopes="read,write,admin")
    log = tmp_path / "server.log"
    with roost_server(env, log) as server:
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            env={**env, "BASE": server.base_url, "KEY": key, "PYTHON": sys.executable},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{log.read_text()}"
    assert result.stdout.rstrip().endswith("all dashboard examples answered as documented")
