"""docs/alerts.md cannot drift: its alert and silence curl examples are the example script's
calls, in order, and that script passes against a real ``roost serve`` with a real webhook
receiver, which gets the documented body."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from example_scripts import page_curl_arguments, script_call_arguments
from receivers import wait_for, webhook_receiver
from roostserver import create_key, roost_env, roost_server

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "alerts.md"
SCRIPT = ROOT / "docs" / "examples" / "alerts.sh"
DOCUMENTED = ("/api/v1/alerts", "/api/v1/silences")


def test_page_alert_examples_are_the_example_script_calls_in_order() -> None:
    page = [args for args in page_curl_arguments(PAGE) if any(p in args for p in DOCUMENTED)]
    script = [args for args in script_call_arguments(SCRIPT) if any(p in args for p in DOCUMENTED)]
    assert len(page) == 11
    assert page == script


def test_example_script_passes_and_the_receiver_gets_the_documented_body(tmp_path: Path) -> None:
    assert shutil.which("curl"), "the examples need curl: apt-get install -y curl"
    env = {
        **roost_env(tmp_path / "data"),
        "ROOST_ALERT_INTERVAL": "1",
        "ROOST_NOTIFY_POLL_SECONDS": "0.1",
    }
    key = create_key(env, "alerts-docs", scopes="read,write,admin")
    log = tmp_path / "server.log"
    with webhook_receiver() as receiver, roost_server(env, log) as server:
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            env={
                **env,
                "BASE": server.base_url,
                "KEY": key,
                "HOOK": receiver.url,
                "PYTHON": sys.executable,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{log.read_text()}"
        assert result.stdout.rstrip().endswith("all alert examples answered as documented")
        [post] = wait_for(lambda: receiver.posts, "the firing notice")
    body = orjson.loads(post.body)
    assert set(body) == {
        "event",
        "alert_id",
        "alert_name",
        "state",
        "value",
        "condition",
        "series_id",
        "series_name",
        "project",
        "time",
        "url",
    }
    assert body["state"] == "firing"
    assert body["condition"] == "mean over 5m > 100"
    assert body["project"] == "alerts-docs"
    assert body["url"] == "/api/v1/alerts/1"
    assert post.headers["x-roost-signature"].startswith("sha256=")
