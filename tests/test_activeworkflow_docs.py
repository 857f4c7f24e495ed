"""docs/activeworkflow.md cannot drift: its curl examples are the example script's calls, in
order, and that script passes against a real ``roost serve`` on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from example_scripts import page_curl_arguments, script_call_arguments
from roostserver import create_key, roost_env, roost_server, run_roost

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "activeworkflow.md"
SCRIPT = ROOT / "docs" / "examples" / "activeworkflow.sh"


def test_page_curl_examples_are_the_example_script_calls_in_order() -> None:
    assert page_curl_arguments(PAGE) == script_call_arguments(SCRIPT)


def test_readme_points_to_the_page() -> None:
    assert "docs/activeworkflow.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_example_script_passes_against_a_real_server(tmp_path: Path) -> None:
    assert shutil.which("curl"), "the examples need curl: apt-get install -y curl"
    env = roost_env(tmp_path / "data")
    key = create_key(env, "aw-docs", scopes="read,write")
    made = run_roost(
        env, "users", "create", "--email", "lead@example.com", "--project", "aw-docs",
        "--role", "owner",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = run_roost(env, "users", "token", "--email", "lead@example.com").stdout.strip()
    log = tmp_path / "server.log"
    with roost_server(env, log) as server:
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            env={
                **env,
                "BASE": server.base_url,
                "KEY": key,
                "TOKEN": token,
                "PYTHON": sys.executable,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{log.read_text()}"
    assert result.stdout.rstrip().endswith("all ActiveWorkflow examples answered as documented")
