"""The alert evaluator, on both databases: each kind fires and recovers, notices reach a real
webhook receiver (signed), and ``for``, ``repeat_every`` and silences behave.

The background evaluator is slowed to once an hour here; the tests run passes themselves with
a chosen ``now``, so "an hour later" takes no time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from receivers import WebhookReceiver, wait_for, webhook_receiver
from roost.alerting.evaluator import Evaluator, PassReport
from roost.app import create_app
from roost.domain.times import now_ms
from roost.settings import Settings
from roost.storage.store import Store

MIN = 60_000
HOUR = 60 * MIN


@pytest.fixture(scope="module")
def world(
    fresh_database_url: Callable[[Path], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Store, WebhookReceiver]]:
    tmp = tmp_path_factory.mktemp("alerts")
    settings = Settings(
        data_dir=tmp,
        database_url=fresh_database_url(tmp),
        alert_interval=3600,
        notify_poll_seconds=0.02,
        notify_retry_first_seconds=0.1,
        notify_timeout_seconds=2,
    )
    app = create_app(settings)
    with webhook_receiver() as receiver, TestClient(app) as client:
        yield client, app.state.store, receiver


@pytest.fixture
def client(world: tuple[TestClient, Store, WebhookReceiver]) -> TestClient:
    return world[0]


@pytest.fixture
def store(world: tuple[TestClient, Store, WebhookReceiver]) -> Store:
    return world[1]


@pytest.fixture
def receiver(world: tuple[TestClient, Store, WebhookReceiver]) -> WebhookReceiver:
    return world[2]


class Scene:
    """One tenant with a webhook channel, and helpers to ingest, evaluate and look."""

    def __init__(self, client: TestClient, store: Store, receiver: WebhookReceiver) -> None:
        self.client = client
        self.store = store
        self.receiver = receiver
        self.tenant: Tenant = make_tenant(store)
        response = client.post(
            "/api/v1/channels",
            headers=self.tenant.headers,
            json={"name": "hook", "url": receiver.url},
        )
        assert response.status_code == 201, response.text
        self.channel_id = response.json()["id"]
        receiver.secret = response.json()["secret"]  # every channel of a test signs alike
        self.evaluator = Evaluator(store)

    def ingest(self, stat: str, value: float, kind: str = "value", t: int | None = None) -> None:
        body: dict[str, Any] = {"stat": stat, "value": value, "type": kind}
        if t is not None:
            body["t"] = t / 1000
        response = self.client.post("/v1/ingest", json=body, headers=self.tenant.headers)
        assert response.status_code == 202, response.text

    def stat_id(self, name: str) -> int:
        response = self.client.get("/v1/stats", headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        found = {item["name"]: item["id"] for item in response.json()["stats"]}
        return int(found[name])

    def hawk(self, path: str, **body: Any) -> None:
        response = self.client.post(
            path, json=body, headers={"x-hawkflow-api-key": self.tenant.key}
        )
        assert response.status_code == 201, response.text

    def alert(self, **document: Any) -> int:
        document.setdefault("name", f"alert-{uuid.uuid4().hex[:6]}")
        document.setdefault("channel_ids", [self.channel_id])
        response = self.client.post("/api/v1/alerts", json=document, headers=self.tenant.headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def run(self, now: int) -> PassReport:
        report = self.client.portal.call(self.evaluator.run_pass, now)  # type: ignore[union-attr]
        assert report is not None
        return report

    def get(self, alert_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/alerts/{alert_id}", headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def state(self, alert_id: int, now: int) -> str:
        self.run(now)
        return str(self.get(alert_id)["state"])

    def events(self, alert_id: int) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/alerts/{alert_id}/events", headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def notices(self, alert_id: int) -> list[dict[str, Any]]:
        found = []
        for post in self.receiver.delivered:
            body = orjson.loads(post.body)
            if body.get("alert_id") == alert_id and body.get("project") == self.tenant.project:
                assert post.signature_ok
                found.append(body)
        return found

    def wait_notices(self, alert_id: int, count: int) -> list[dict[str, Any]]:
        wait_for(lambda: len(self.notices(alert_id)) >= count, f"{count} notices")
        return self.notices(alert_id)


@pytest.fixture
def scene(client: TestClient, store: Store, receiver: WebhookReceiver) -> Scene:
    return Scene(client, store, receiver)


# -- threshold, delta, deadman --


def test_a_value_threshold_fires_once_and_sends_a_recovery(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("queue.length", 500, t=now)
    stat_id = scene.stat_id("queue.length")
    alert_id = scene.alert(kind="threshold", stat_id=stat_id, window="5m", operator=">", value=100)
    assert scene.state(alert_id, now) == "firing"
    assert scene.state(alert_id, now + 1000) == "firing"  # no second notice while firing
    [fired] = scene.wait_notices(alert_id, 1)
    assert fired["state"] == "firing"
    assert fired["value"] == 500
    assert fired["condition"] == "mean over 5m > 100"
    assert fired["series_id"] == stat_id
    assert fired["series_name"] == "queue.length"
    assert fired["alert_id"] == alert_id
    for _ in range(9):
        scene.ingest("queue.length", 10, t=now)
    assert scene.state(alert_id, now + 2000) == "ok"
    notices = scene.wait_notices(alert_id, 2)
    assert [notice["state"] for notice in notices] == ["firing", "resolved"]
    assert notices[1]["value"] == pytest.approx(59.0)
    history = scene.events(alert_id)
    assert [(event["from"], event["to"]) for event in history] == [
        ("firing", "ok"),
        ("ok", "firing"),
    ]
    assert all(event["notified"] for event in history)


def test_a_counter_threshold_compares_the_window_sum_and_empty_is_no_data(scene: Scene) -> None:
    now = now_ms()
    for _ in range(3):
        scene.ingest("signups", 2, kind="counter", t=now - 2 * MIN)
    stat_id = scene.stat_id("signups")
    alert_id = scene.alert(kind="threshold", stat_id=stat_id, window="5m", operator=">=", value=6)
    assert scene.state(alert_id, now) == "firing"
    assert scene.get(alert_id)["last_value"] == 6
    scene.wait_notices(alert_id, 1)  # sends run concurrently: keep the order to compare
    # Ten minutes on, the window holds no point: no data, which ends the firing.
    assert scene.state(alert_id, now + 10 * MIN) == "no_data"
    assert [notice["state"] for notice in scene.wait_notices(alert_id, 2)] == [
        "firing",
        "resolved",
    ]


def test_delta_compares_with_the_same_window_earlier(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("orders", 100, kind="counter", t=now - HOUR)
    scene.ingest("orders", 100, kind="counter", t=now)
    stat_id = scene.stat_id("orders")
    alert_id = scene.alert(
        kind="delta", stat_id=stat_id, window="10m", compare_to="1h", operator="<", percentage=50
    )
    assert scene.state(alert_id, now) == "ok"  # 100 against 100
    alert_drop = scene.alert(
        kind="delta", stat_id=stat_id, window="10m", compare_to="1h", operator="!=", percentage=0
    )
    assert scene.state(alert_drop, now) == "ok"
    scene.ingest("orders", 300, kind="counter", t=now)  # 400 against 100: +300%
    assert scene.state(alert_drop, now) == "firing"
    assert scene.get(alert_id)["state"] == "ok"  # a rise is not a fall


def test_deadman_fires_after_silence_and_recovers_on_the_next_point(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("heartbeat", 1, kind="counter", t=now)
    stat_id = scene.stat_id("heartbeat")
    alert_id = scene.alert(kind="deadman", stat_id=stat_id, window="10m")
    assert scene.state(alert_id, now + 5 * MIN) == "ok"
    assert scene.state(alert_id, now + 11 * MIN) == "firing"
    assert scene.get(alert_id)["last_value"] == pytest.approx(660, abs=1)
    scene.wait_notices(alert_id, 1)
    scene.ingest("heartbeat", 1, kind="counter", t=now + 11 * MIN)
    assert scene.state(alert_id, now + 11 * MIN + 1000) == "ok"
    notices = scene.wait_notices(alert_id, 2)
    assert [notice["state"] for notice in notices] == ["firing", "resolved"]
    assert notices[0]["condition"] == "no point within 10m"


def test_for_holds_back_firing_until_the_condition_lasted(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("temp", 90, t=now)
    stat_id = scene.stat_id("temp")
    alert_id = scene.alert(
        kind="threshold", stat_id=stat_id, window="10m", operator=">", value=80, **{"for": 120}
    )
    assert scene.state(alert_id, now) == "ok"
    assert scene.state(alert_id, now + 60_000) == "ok"
    assert scene.state(alert_id, now + 121_000) == "firing"
    assert len(scene.wait_notices(alert_id, 1)) == 1


def test_repeat_every_renotifies_while_firing(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("errors.rate", 9, t=now)
    stat_id = scene.stat_id("errors.rate")
    alert_id = scene.alert(
        kind="threshold", stat_id=stat_id, window="1h", operator=">", value=1, repeat_every=600
    )
    scene.run(now)
    scene.run(now + 5 * MIN)  # too soon to repeat
    scene.run(now + 11 * MIN)
    notices = scene.wait_notices(alert_id, 2)
    assert [notice["state"] for notice in notices] == ["firing", "firing"]


def test_a_silence_holds_notices_but_not_state_changes(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("disk.used", 99, t=now)
    stat_id = scene.stat_id("disk.used")
    alert_id = scene.alert(kind="threshold", stat_id=stat_id, window="5m", operator=">", value=95)
    response = scene.client.post(
        "/api/v1/silences",
        json={"alert_id": alert_id, "until": (now + HOUR) / 1000, "reason": "maintenance"},
        headers=scene.tenant.headers,
    )
    assert response.status_code == 201, response.text
    assert scene.state(alert_id, now) == "firing"
    [event] = scene.events(alert_id)
    assert event["silenced"] is True
    assert event["notified"] is False
    # The silence ends; a later recovery is told again.
    assert (
        scene.client.delete(
            f"/api/v1/silences/{response.json()['id']}", headers=scene.tenant.headers
        ).status_code
        == 204
    )
    for _ in range(5):
        scene.ingest("disk.used", 50, t=now)
    assert scene.state(alert_id, now + 1000) == "ok"
    assert [notice["state"] for notice in scene.wait_notices(alert_id, 1)] == ["resolved"]


def test_a_project_wide_silence_covers_every_alert(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("cpu", 99, t=now)
    stat_id = scene.stat_id("cpu")
    response = scene.client.post(
        "/api/v1/silences", json={"until": (now + HOUR) / 1000}, headers=scene.tenant.headers
    )
    assert response.status_code == 201
    alert_id = scene.alert(kind="threshold", stat_id=stat_id, window="5m", operator=">", value=5)
    assert scene.state(alert_id, now) == "firing"
    assert scene.events(alert_id)[0]["silenced"] is True


# -- runs --


def test_a_run_missing_by_interval(scene: Scene) -> None:
    scene.hawk("/v1/start", process="nightly", meta="", uid="a")
    scene.hawk("/v1/end", process="nightly", meta="", uid="a")
    now = now_ms()
    alert_id = scene.alert(
        kind="run", process="nightly", condition="missing", every=3600, grace=300
    )
    assert scene.state(alert_id, now + 30 * MIN) == "ok"
    assert scene.state(alert_id, now + 66 * MIN) == "firing"
    [notice] = scene.wait_notices(alert_id, 1)
    assert notice["condition"] == "no run of 'nightly' within 1h (grace 5m)"
    scene.hawk("/v1/start", process="nightly", meta="", uid="b")
    assert scene.state(alert_id, now_ms()) == "ok"


def test_a_run_missing_by_cron_schedule(scene: Scene) -> None:
    scene.hawk("/v1/start", process="hourly", meta="")
    now = now_ms()
    alert_id = scene.alert(
        kind="run", process="hourly", condition="missing", schedule="0 * * * *", grace=120
    )
    next_hour = now // HOUR * HOUR + HOUR
    # Before the next slot (plus its grace), the run we have is enough.
    assert scene.state(alert_id, next_hour + 60_000) == "ok"
    # The slot after passed with no run started near it (the run we have may lie within the
    # grace before the next slot, so look one slot further).
    assert scene.state(alert_id, next_hour + HOUR + 3 * MIN) == "firing"
    assert scene.state(alert_id, next_hour + HOUR + 30 * MIN) == "firing"


def test_a_too_long_open_run_fires_before_it_ends(scene: Scene) -> None:
    scene.hawk("/v1/start", process="export", meta="", uid="x")
    now = now_ms()
    alert_id = scene.alert(kind="run", process="export", condition="too_long", max_duration=600)
    assert scene.state(alert_id, now + 5 * MIN) == "ok"
    assert scene.state(alert_id, now + 11 * MIN) == "firing"
    assert scene.get(alert_id)["last_value"] == pytest.approx(660, abs=2)


def test_a_too_short_run_and_too_many_runs(scene: Scene) -> None:
    for uid in ("1", "2", "3"):
        scene.hawk("/v1/start", process="sync", meta="", uid=uid)
        scene.hawk("/v1/end", process="sync", meta="", uid=uid)
    now = now_ms()
    short = scene.alert(kind="run", process="sync", condition="too_short", min_duration=5)
    often = scene.alert(kind="run", process="sync", condition="too_often", max_runs=2, window="1h")
    scene.run(now)
    assert scene.get(short)["state"] == "firing"
    assert scene.get(often)["state"] == "firing"
    assert scene.get(often)["last_value"] == 3
    assert scene.state(often, now + 2 * HOUR) == "ok"


def test_failed_fires_on_an_exception_and_recovers_on_a_good_run(scene: Scene) -> None:
    scene.hawk("/v1/start", process="etl", meta="", uid="1")
    scene.hawk("/v1/end", process="etl", meta="", uid="1")
    alert_id = scene.alert(kind="run", process="etl", condition="failed")
    assert scene.state(alert_id, now_ms()) == "ok"
    scene.hawk("/v1/exception", process="etl", meta="", exception="ValueError: boom")
    assert scene.state(alert_id, now_ms()) == "firing"
    scene.hawk("/v1/start", process="etl", meta="", uid="2")
    scene.hawk("/v1/end", process="etl", meta="", uid="2")
    # That run saw the exception? No: it started after it, and ended well.
    assert scene.state(alert_id, now_ms()) == "ok"


# -- exceptions --

TRACE = 'Traceback (most recent call last):\n  File "job.py", line {n}, in run\n{kind}: {text}'


def test_exception_alerts_fire_per_new_group_and_again_when_one_reopens(scene: Scene) -> None:
    scene.hawk(
        "/v1/exception",
        process="api",
        meta="",
        exception=TRACE.format(n=1, kind="KeyError", text="old"),
    )
    alert_id = scene.alert(kind="exception", process="api")
    assert scene.state(alert_id, now_ms()) == "ok"  # groups older than the alert stay quiet
    scene.hawk(
        "/v1/exception",
        process="api",
        meta="",
        exception=TRACE.format(n=3, kind="TypeError", text="bad"),
    )
    assert scene.state(alert_id, now_ms()) == "firing"
    [fired] = scene.wait_notices(alert_id, 1)
    assert fired["subject"].startswith("TypeError")
    group_id = int(fired["key"])
    resolved = scene.client.patch(
        f"/api/v1/exceptions/{group_id}", json={"status": "resolved"}, headers=scene.tenant.headers
    )
    assert resolved.status_code == 200, resolved.text
    assert scene.state(alert_id, now_ms()) == "ok"
    scene.wait_notices(alert_id, 2)  # sends run concurrently: keep the order to compare
    scene.hawk(
        "/v1/exception",
        process="api",
        meta="",
        exception=TRACE.format(n=9, kind="TypeError", text="bad"),
    )
    assert scene.state(alert_id, now_ms()) == "firing"
    states = [notice["state"] for notice in scene.wait_notices(alert_id, 3)]
    assert states == ["firing", "resolved", "firing"]


# -- spend --


def _spend(scene: Scene, user: str, cost: float, tokens: int) -> None:
    response = scene.client.post(
        "/session/start",
        json={"session": {"session_name": "chat", "user_properties": {"user_id": user}}},
        headers=scene.tenant.headers,
    )
    assert response.status_code == 200, response.text
    session_id = response.json()["session_id"]
    response = scene.client.post(
        "/events",
        json={
            "event": {
                "event_type": "model",
                "event_name": "llm",
                "session_id": session_id,
                "config": {"model": "gpt-test"},
                "inputs": {"prompt": "hi"},
                "outputs": {"text": "hello"},
                "metadata": {"total_tokens": tokens, "cost": cost},
            }
        },
        headers=scene.tenant.headers,
    )
    assert response.status_code == 200, response.text


def test_spend_fires_for_each_user_over_the_limit_and_names_them(scene: Scene) -> None:
    _spend(scene, "alice", 3.0, 100)
    _spend(scene, "alice", 2.5, 100)
    _spend(scene, "bob", 1.0, 100)
    alert_id = scene.alert(kind="spend", measure="cost", per="user_id", window="1h", value=5)
    assert scene.state(alert_id, now_ms()) == "firing"
    shown = scene.get(alert_id)
    assert [(key["key"], key["state"]) for key in shown["keys"]] == [("alice", "firing")]
    assert shown["last_value"] == pytest.approx(5.5)
    [notice] = scene.wait_notices(alert_id, 1)
    assert notice["subject"] == "user_id=alice"
    _spend(scene, "bob", 4.5, 100)
    scene.run(now_ms())
    keys = {key["key"] for key in scene.get(alert_id)["keys"]}
    assert keys == {"alice", "bob"}
    # Two hours on, the window is empty: both recover, each with its notice.
    assert scene.state(alert_id, now_ms() + 2 * HOUR) == "ok"
    states = sorted(notice["state"] for notice in scene.wait_notices(alert_id, 4))
    assert states == ["firing", "firing", "resolved", "resolved"]


def test_spend_per_session_in_tokens(scene: Scene) -> None:
    _spend(scene, "carol", 0.1, 5000)
    alert_id = scene.alert(kind="spend", measure="tokens", per="session", window="1h", value=1000)
    assert scene.state(alert_id, now_ms()) == "firing"
    [key] = scene.get(alert_id)["keys"]
    assert key["subject"].startswith("session ")


# -- rules changing under the evaluator --


def test_a_disabled_alert_is_not_evaluated_and_a_changed_rule_starts_again(scene: Scene) -> None:
    now = now_ms()
    scene.ingest("load", 5, t=now)
    stat_id = scene.stat_id("load")
    alert_id = scene.alert(kind="threshold", stat_id=stat_id, window="5m", operator=">", value=1)
    assert scene.state(alert_id, now) == "firing"
    patched = scene.client.patch(
        f"/api/v1/alerts/{alert_id}", json={"value": 10}, headers=scene.tenant.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["state"] == "ok"
    assert scene.state(alert_id, now) == "ok"
    scene.client.patch(
        f"/api/v1/alerts/{alert_id}",
        json={"enabled": False, "value": 1},
        headers=scene.tenant.headers,
    )
    assert scene.state(alert_id, now) == "ok"
    assert scene.get(alert_id)["last_evaluated_at"] is not None
