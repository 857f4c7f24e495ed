"""docs/alerts.md cannot drift: its alert and silence curl examples are the example script's
calls, in order, and that script passes against a real ``roost serve`` with a real webhook
receiver, which gets the documented body."""

from __future__ import annotations

from pathlib import Path

import orjson

from example_scripts import page_curl_arguments, run_against_server, script_call_arguments
from receivers import wait_for, webhook_receiver
from roostserver import create_key, roost_env

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
    env = {
        **roost_env(tmp_path / "data"),
        "ROOST_ALERT_INTERVAL": "1",
        "ROOST_NOTIFY_POLL_SECONDS": "0.1",
    }
    key = create_key(env, "alerts-docs", scopes="read,write,admin")
    with webhook_receiver() as receiver:
        printed = run_against_server(SCRIPT, env, key, tmp_path / "server.log", HOOK=receiver.url)
        assert printed.endswith("all alert examples answered as documented")
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
