"""Alerts end to end with real ``roost serve`` processes and ``ROOST_ALERT_INTERVAL=1``: two
servers on one PostgreSQL notify once, and a notice pending across a restart is sent once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from receivers import WebhookReceiver, wait_for, webhook_receiver
from roostserver import RunningRoost, create_key, roost_env, roost_server

FAST = {
    "ROOST_ALERT_INTERVAL": "1",
    "ROOST_NOTIFY_POLL_SECONDS": "0.1",
    "ROOST_NOTIFY_TIMEOUT_SECONDS": "2",
}


@contextmanager
def servers(env: dict[str, str], log: Path, count: int) -> Iterator[list[RunningRoost]]:
    with ExitStack() as stack:
        yield [stack.enter_context(roost_server(env, log)) for _ in range(count)]


def setup_alert(base_url: str, key: str, receiver: WebhookReceiver) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
        assert (
            http.post(
                "/v1/ingest", json={"stat": "queue", "value": 500, "type": "value"}
            ).status_code
            == 202
        )
        stat_id = http.get("/v1/stats").json()["stats"][0]["id"]
        hook = http.post("/api/v1/channels", json={"name": "hook", "url": receiver.url})
        assert hook.status_code == 201, hook.text
        receiver.secret = hook.json()["secret"]
        made = http.post(
            "/api/v1/alerts",
            json={
                "name": "queue too long",
                "kind": "threshold",
                "stat_id": stat_id,
                "window": "5m",
                "operator": ">",
                "value": 100,
                "channel_ids": [hook.json()["id"]],
            },
        )
        assert made.status_code == 201, made.text
        return int(made.json()["id"])


def notices(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    found = []
    for post in receiver.delivered:
        assert post.signature_ok
        found.append(orjson.loads(post.body))
    return found


def test_servers_sharing_a_database_send_each_notice_once(
    dialect: str, fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    env = {**roost_env(tmp_path, fresh_database_url(tmp_path)), **FAST}
    key = create_key(env, "shop", "read,write,admin")
    # SQLite is one node by design; PostgreSQL is where several servers share the work.
    count = 2 if dialect == "postgresql" else 1
    with webhook_receiver() as receiver, servers(env, tmp_path / "serve.log", count) as nodes:
        alert_id = setup_alert(nodes[0].base_url, key, receiver)
        wait_for(lambda: notices(receiver), "the firing notice")
        time.sleep(3.5)  # several more passes on every node
        assert [(n["alert_id"], n["state"]) for n in notices(receiver)] == [(alert_id, "firing")]
        with httpx.Client(
            base_url=nodes[-1].base_url, headers={"Authorization": f"Bearer {key}"}
        ) as http:
            for _ in range(20):
                http.post("/v1/ingest", json={"stat": "queue", "value": 1, "type": "value"})
        wait_for(lambda: len(notices(receiver)) >= 2, "the recovery notice")
        time.sleep(2.5)
        assert [n["state"] for n in notices(receiver)] == ["firing", "resolved"]


def test_a_notice_pending_across_a_restart_is_sent_once(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    env = {
        **roost_env(tmp_path, fresh_database_url(tmp_path)),
        **FAST,
        # The retry after the failed first try comes long after the server is stopped.
        "ROOST_NOTIFY_RETRY_FIRST_SECONDS": "3",
    }
    key = create_key(env, "shop", "read,write,admin")
    log = tmp_path / "serve.log"
    with webhook_receiver() as receiver:
        receiver.fail_next = 1000
        with roost_server(env, log) as server:
            setup_alert(server.base_url, key, receiver)
            wait_for(lambda: receiver.posts, "the first (failing) attempt")
        assert receiver.delivered == []
        receiver.fail_next = 0
        with roost_server(env, log):
            wait_for(lambda: receiver.delivered, "the retried notice")
            time.sleep(3)  # passes go on: the alert is still firing, so nothing new is sent
        assert [n["state"] for n in notices(receiver)] == ["firing"]
