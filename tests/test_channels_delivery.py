"""The dispatcher delivers the notification outbox: signed, retried with backoff, logged,
concurrently, and exactly once across a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from receivers import smtp_server, wait_for, webhook_receiver
from roost.app import create_app
from roost.domain.errors import NotFound
from roost.services import notifications
from roost.settings import Settings
from roost.storage.store import Store

ALERT = {
    "event": "alert",
    "alert_id": 42,
    "alert_name": "queue too long",
    "state": "firing",
    "value": 130.0,
    "condition": "mean over 5m > 100",
    "series_id": 7,
    "series_name": "queue.length",
    "project": "shop",
    "time": "2026-11-23T10:00:00Z",
    "url": "http://127.0.0.1:8000/alerts/42",
}


@pytest.fixture
def fast_settings(fresh_database_url: Callable[[Path], str], tmp_path: Path) -> Settings:
    """A fresh database, and a dispatcher that polls and retries in fractions of a second."""
    return Settings(
        data_dir=tmp_path,
        database_url=fresh_database_url(tmp_path),
        notify_poll_seconds=0.02,
        notify_retry_first_seconds=0.1,
        notify_timeout_seconds=0.5,
    )


@contextmanager
def running(settings: Settings) -> Iterator[tuple[TestClient, Store]]:
    """The app with its lifespan (migrations, writer, dispatcher) until the block ends."""
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, app.state.store


def add_channel(client: TestClient, tenant: Tenant, url: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/channels", headers=tenant.headers, json={"name": "c", "url": url}
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def enqueue(store: Store, tenant: Tenant, channel_ids: list[int], alert_id: int = 42) -> None:
    store.write_now(
        partial(
            notifications.enqueue,
            project_id=tenant.project_id,
            alert_id=alert_id,
            channel_ids=channel_ids,
            payload=ALERT,
        )
    )


def deliveries(client: TestClient, tenant: Tenant, channel_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/channels/{channel_id}/deliveries", headers=tenant.headers)
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def outbox(store: Store, tenant: Tenant) -> list[tuple[str, int]]:
    with store.read() as conn:
        rows = notifications.outbox_states(conn, project_id=tenant.project_id)
    return [(state, attempts) for _, state, attempts in rows]


def test_a_notification_reaches_every_channel_once_signed(fast_settings: Settings) -> None:
    with (
        running(fast_settings) as (client, store),
        webhook_receiver() as first,
        webhook_receiver() as second,
        smtp_server() as mailbox,
    ):
        tenant = make_tenant(store)
        hooks = [add_channel(client, tenant, receiver.url) for receiver in (first, second)]
        first.secret, second.secret = hooks[0]["secret"], hooks[1]["secret"]
        mail = add_channel(client, tenant, mailbox.apprise_url())
        enqueue(store, tenant, [hooks[0]["id"], hooks[1]["id"], mail["id"]])

        wait_for(lambda: first.delivered and second.delivered and mailbox.messages, "delivery")
        wait_for(lambda: outbox(store, tenant) == [("delivered", 1)] * 3, "the outbox to settle")
        time.sleep(0.1)  # several more polls: nothing is sent again
        for receiver in (first, second):
            [post] = receiver.posts
            assert post.signature_ok
            assert orjson.loads(post.body) == ALERT
            assert post.headers["x-roost-attempt"] == "1"
            assert post.headers["x-roost-delivery"].isdigit()
        [raw] = mailbox.messages
        assert "[FIRING] queue too long" in message_from_bytes(raw)["Subject"]
        for channel in (*hooks, mail):
            [logged] = deliveries(client, tenant, channel["id"])
            assert (logged["alert_id"], logged["attempt"], logged["ok"]) == (42, 1, True)


def test_a_receiver_failing_twice_gets_three_attempts_and_one_delivery(
    fast_settings: Settings,
) -> None:
    with running(fast_settings) as (client, store), webhook_receiver() as receiver:
        tenant = make_tenant(store)
        hook = add_channel(client, tenant, receiver.url)
        receiver.secret, receiver.fail_next = hook["secret"], 2
        enqueue(store, tenant, [hook["id"]])

        wait_for(lambda: outbox(store, tenant) == [("delivered", 3)], "the third attempt")
        time.sleep(0.1)
        assert [post.answered for post in receiver.posts] == [500, 500, 200]
        assert all(post.signature_ok for post in receiver.posts)
        assert [post.headers["x-roost-attempt"] for post in receiver.posts] == ["1", "2", "3"]
        assert len({post.headers["x-roost-delivery"] for post in receiver.posts}) == 1
        logged = deliveries(client, tenant, hook["id"])
        assert [(d["attempt"], d["ok"], d["error"]) for d in logged] == [
            (3, True, None),
            (2, False, "HTTP 500"),
            (1, False, "HTTP 500"),
        ]


def test_a_receiver_that_never_recovers_is_given_up_after_the_last_try(
    fast_settings: Settings,
) -> None:
    settings = fast_settings.model_copy(update={"notify_attempts": 3})
    with running(settings) as (client, store), webhook_receiver() as receiver:
        tenant = make_tenant(store)
        hook = add_channel(client, tenant, receiver.url)
        receiver.secret, receiver.fail_next = hook["secret"], 1000
        enqueue(store, tenant, [hook["id"]])

        wait_for(lambda: outbox(store, tenant) == [("failed", 3)], "the last try")
        time.sleep(0.3)  # longer than the next backoff step would be
        assert len(receiver.posts) == 3
        assert [d["attempt"] for d in deliveries(client, tenant, hook["id"])] == [3, 2, 1]


def test_a_dead_channel_does_not_delay_the_others(fast_settings: Settings) -> None:
    settings = fast_settings.model_copy(update={"notify_timeout_seconds": 1.0})
    with (
        running(settings) as (client, store),
        webhook_receiver() as dead,
        webhook_receiver() as alive,
    ):
        dead.hang_seconds = 2.0  # answers long after the 1 s send timeout
        tenant = make_tenant(store)
        stuck = add_channel(client, tenant, dead.url)
        working = add_channel(client, tenant, alive.url)
        alive.secret = working["secret"]
        started = time.monotonic()
        enqueue(store, tenant, [stuck["id"], working["id"]])

        wait_for(lambda: alive.delivered, "the live receiver")
        assert time.monotonic() - started < 0.8  # not behind the dead one's 1 s timeout
        assert deliveries(client, tenant, stuck["id"]) == []  # its first send is still waiting
        failed = wait_for(lambda: deliveries(client, tenant, stuck["id"]), "the timeout")
        assert failed[0]["error"] == "timed out after 1 s"
        assert failed[0]["ok"] is False


def test_a_pending_notification_survives_a_restart_and_is_delivered_once(
    fast_settings: Settings,
) -> None:
    # Retries far apart, so the notification is still pending when the server stops.
    settings = fast_settings.model_copy(update={"notify_retry_first_seconds": 0.5})
    with webhook_receiver() as receiver:
        with running(settings) as (client, store):
            tenant = make_tenant(store)
            hook = add_channel(client, tenant, receiver.url)
            receiver.secret, receiver.fail_next = hook["secret"], 1000
            enqueue(store, tenant, [hook["id"]])
            wait_for(lambda: outbox(store, tenant) == [("pending", 1)], "the first attempt")
        assert len(receiver.posts) == 1  # stopped: nothing more is sent

        receiver.fail_next = 0
        with running(settings) as (client, store):
            wait_for(lambda: outbox(store, tenant) == [("delivered", 2)], "the retry")
            time.sleep(0.2)
            assert [post.answered for post in receiver.posts] == [500, 200]
            assert receiver.posts[1].signature_ok
            logged = deliveries(client, tenant, hook["id"])
            assert [(d["attempt"], d["ok"]) for d in logged] == [(2, True), (1, False)]


def test_a_notification_queued_while_no_server_runs_is_sent_at_start(
    fast_settings: Settings,
) -> None:
    with webhook_receiver() as receiver:
        with running(fast_settings) as (client, store):
            tenant = make_tenant(store)
            hook = add_channel(client, tenant, receiver.url)
            receiver.secret = hook["secret"]
        offline = Store(fast_settings)
        try:
            enqueue(offline, tenant, [hook["id"]])
        finally:
            offline.close()
        assert receiver.posts == []
        with running(fast_settings) as (client, store):
            wait_for(lambda: outbox(store, tenant) == [("delivered", 1)], "the delivery")
        assert len(receiver.delivered) == 1 and receiver.delivered[0].signature_ok


def test_enqueue_refuses_a_channel_of_another_project_and_queues_nothing(
    client: TestClient, store: Store
) -> None:
    owner, stranger = make_tenant(store), make_tenant(store)
    theirs = add_channel(client, owner, "https://example.com/hook")
    mine = add_channel(client, stranger, "https://example.com/mine")
    with pytest.raises(NotFound):
        enqueue(store, stranger, [mine["id"], theirs["id"]])
    assert outbox(store, stranger) == []
    assert outbox(store, owner) == []


def test_deleting_a_channel_drops_its_unsent_notifications(fast_settings: Settings) -> None:
    settings = fast_settings.model_copy(update={"notify_retry_first_seconds": 30.0})
    with running(settings) as (client, store), webhook_receiver() as receiver:
        tenant = make_tenant(store)
        hook = add_channel(client, tenant, receiver.url)
        receiver.fail_next = 1000
        enqueue(store, tenant, [hook["id"]])
        wait_for(lambda: outbox(store, tenant) == [("pending", 1)], "the first attempt")
        response = client.delete(f"/api/v1/channels/{hook['id']}", headers=tenant.headers)
        assert response.status_code == 204
        assert outbox(store, tenant) == []
