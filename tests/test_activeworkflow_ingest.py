"""Ingest makes ActiveWorkflow agents and messages: HawkFlow processes, StatFlow stats and
HoneyHive event names, on both databases; disabled agents emit nothing; expired messages
vanish from the API and retention deletes them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import Tenant, make_tenant
from hawkflow import post
from roost.app import create_app, run_retention_pass
from roost.domain.agents import process_seed
from roost.domain.times import DAY, now_ms
from roost.services.agents import Viewer, list_messages
from roost.services.messages import add_message
from roost.settings import Settings
from roost.storage.messages import BLOCK_SIZE, insert_blocks
from roost.storage.schema import agents, message_blocks
from roost.storage.store import Store
from roost.storage.writer import WriteTx
from tracing import post_event, start_session


def aw_get(client: TestClient, tenant: Tenant, path: str, **params: Any) -> Any:
    response = client.get(f"/api/v1{path}", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def agents_by_name(client: TestClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in aw_get(client, tenant, "/agents")}


def payloads(client: TestClient, tenant: Tenant, agent_id: int) -> list[dict[str, Any]]:
    """The agent's message payloads, newest first."""
    found = []
    for item in aw_get(client, tenant, f"/agents/{agent_id}/messages"):
        found.append(aw_get(client, tenant, f"/messages/{item['id']}")["payload"])
    return found


def event(client: TestClient, tenant: Tenant, **fields: Any) -> str:
    return post_event(client, tenant, **{"inputs": {}, **fields})


TRACEBACK = 'Traceback (most recent call last):\n  File "job.py", line 3\nValueError: bad row\n'


def test_hawkflow_runs_metrics_and_exceptions_are_messages_of_the_process_agent(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    body = {"process": "nightly-etl", "meta": "eu", "uid": "r1"}
    assert post(client, tenant, "/v1/start", body).status_code == 201
    metrics = {**body, "items": {"rows": 12, "seconds": 3.5}}
    assert post(client, tenant, "/v1/metrics", metrics).status_code == 201
    exception = {**body, "exception": TRACEBACK}
    assert post(client, tenant, "/v1/exception", exception).status_code == 201
    assert post(client, tenant, "/v1/end", {**body, "info": "done"}).status_code == 201
    agent = agents_by_name(client, tenant)["nightly-etl [eu]"]
    assert agent["type"] == "Agents::Process"
    assert agent["messages_count"] == 4
    assert agent["disabled"] is False
    kinds = [payload["kind"] for payload in payloads(client, tenant, agent["id"])]
    assert kinds == ["run_ended", "exception", "metrics", "run_started"]
    ended, failure, posted, started = payloads(client, tenant, agent["id"])
    assert ended["uid"] == "r1" and ended["info"] == "done" and ended["orphan"] is False
    assert isinstance(ended["duration_ms"], int)
    assert failure["type"] == "ValueError" and isinstance(failure["group_id"], int)
    assert posted["metrics"] == {"rows": 12, "seconds": 3.5}
    assert started == {"kind": "run_started", "uid": "r1", "process": "nightly-etl", "meta": "eu"}


def test_an_end_without_a_start_is_an_orphan_message(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    assert post(client, tenant, "/v1/end", {"process": "lonely", "uid": "x"}).status_code == 201
    agent = agents_by_name(client, tenant)["lonely"]
    assert payloads(client, tenant, agent["id"])[0]["orphan"] is True


def test_a_stat_batch_is_one_points_message_per_stat(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    items = [{"stat": "signups", "value": 1, "t": 1_700_000_000 + i} for i in range(5)]
    items.append({"stat": "latency", "value": 40.0, "type": "value"})
    response = client.post("/v1/ingest/batch", json={"items": items}, headers=tenant.headers)
    assert response.status_code == 202, response.text
    found = agents_by_name(client, tenant)
    signups = found["signups"]
    assert signups["type"] == "Agents::Stat"
    assert signups["messages_count"] == 1
    (payload,) = payloads(client, tenant, signups["id"])
    assert payload["kind"] == "points" and payload["count"] == 5 and payload["sum"] == 5.0
    assert payload["first_at"] == "2023-11-14T22:13:20.000Z"
    assert found["latency"]["messages_count"] == 1


def test_stathat_ez_posts_are_messages_of_the_stat_agent(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.get("/ez", params={"ezkey": tenant.key, "stat": "logins", "count": 2})
    assert response.status_code == 200, response.text
    assert agents_by_name(client, tenant)["logins"]["messages_count"] == 1


def test_trace_events_make_agents_per_name_and_type_with_parent_sources(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session = start_session(client, tenant, session_name="support-chat")
    session_id = session["session_id"]
    chain = event(
        client, tenant, session_id=session_id, event_type="chain", event_name="answer",
        parent_id=session_id,
    )  # fmt: skip
    for _ in range(2):
        event(
            client, tenant, session_id=session_id, event_type="model", event_name="gpt-call",
            parent_id=chain, inputs={"q": "hi"},
        )  # fmt: skip
    found = agents_by_name(client, tenant)
    assert found["support-chat"]["type"] == "Agents::SessionEvent"
    assert found["answer"]["type"] == "Agents::ChainEvent"
    model = found["gpt-call"]
    assert model["type"] == "Agents::ModelEvent"
    assert model["messages_count"] == 2
    assert model["sources"] == [{"id": found["answer"]["id"]}]
    assert found["answer"]["sources"] == [{"id": found["support-chat"]["id"]}]
    payload = payloads(client, tenant, model["id"])[0]
    assert payload["kind"] == "trace_event" and payload["parent_id"] == chain


def _stored_payloads(store: Store, project_id: int, agent_id: int) -> list[Any]:
    """The payloads as the agent's blocks hold them, oldest first."""
    with store.read() as conn:
        texts = conn.execute(
            select(message_blocks.c.payloads)
            .where(message_blocks.c.project_id == project_id, message_blocks.c.agent_id == agent_id)
            .order_by(message_blocks.c.id)
        ).scalars()
        return [payload for text in texts for _, payload in orjson.loads(text)]


def test_a_trace_event_message_is_stored_as_a_reference_and_read_with_the_event_fields(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant, session_name="refs")["session_id"]
    event_id = event(
        client, tenant, session_id=session_id, event_type="tool", event_name="fetch",
        parent_id=session_id, duration=42.5, error="timed out",
    )  # fmt: skip
    agent = agents_by_name(client, tenant)["fetch"]
    assert _stored_payloads(store, tenant.project_id, agent["id"]) == [
        {"kind": "trace_event", "event_id": event_id}
    ]
    expected = {
        "kind": "trace_event",
        "event_id": event_id,
        "session_id": session_id,
        "parent_id": session_id,
        "event_type": "tool",
        "event_name": "fetch",
        "duration_ms": 42.5,
        "error": True,
    }
    assert payloads(client, tenant, agent["id"]) == [expected]
    # The services' list (the web app's) holds the same, read in one lookup.
    with store.read() as conn:
        viewer = Viewer(frozenset({tenant.project_id}), frozenset())
        rows = list_messages(
            conn, viewer=viewer, agent_id=agent["id"], after=None, limit=None, keep_ms=None,
            now=now_ms(),
        )  # fmt: skip
    assert [row.payload for row in rows] == [expected]


def _block(project_id: int, agent_id: int, payloads: list[Any]) -> Callable[[WriteTx], None]:
    def job(tx: WriteTx) -> None:
        now = now_ms()
        insert_blocks(
            tx.conn,
            project_id=project_id,
            blocks=[(agent_id, now, [[now, payload] for payload in payloads])],
        )

    return job


def test_whole_trace_event_payloads_and_references_to_missing_events_read_as_stored(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant, session_name="older")["session_id"]
    event(client, tenant, session_id=session_id, event_type="model", event_name="llm",
          parent_id=session_id)  # fmt: skip
    agent = agents_by_name(client, tenant)["llm"]
    # As trace-event messages were stored before references, and a reference to an event
    # that is not stored (it names the event all the same).
    whole = {
        "kind": "trace_event", "event_id": "0192f0c4-2222-7000-8000-000000000001",
        "session_id": session_id, "parent_id": None, "event_type": "model",
        "event_name": "llm", "duration_ms": 3.0, "error": False,
    }  # fmt: skip
    missing = {"kind": "trace_event", "event_id": "0192f0c4-3333-7000-8000-000000000001"}
    store.write_now(_block(tenant.project_id, agent["id"], [whole, missing]))
    newest = payloads(client, tenant, agent["id"])
    assert newest[:2] == [missing, whole]
    assert newest[2]["event_name"] == "llm" and newest[2]["parent_id"] == session_id


def test_a_trace_event_reference_never_reads_another_projects_event(
    client: TestClient, store: Store
) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    session_id = start_session(client, owner, session_name="mine")["session_id"]
    event_id = event(client, owner, session_id=session_id, event_type="tool",
                     event_name="private", parent_id=session_id)  # fmt: skip
    session_other = start_session(client, other, session_name="theirs")["session_id"]
    event(client, other, session_id=session_other, event_type="tool", event_name="probe",
          parent_id=session_other)  # fmt: skip
    probe = agents_by_name(client, other)["probe"]
    reference = {"kind": "trace_event", "event_id": event_id}
    store.write_now(_block(other.project_id, probe["id"], [reference]))
    assert payloads(client, other, probe["id"])[0] == reference  # not the owner's event


def test_a_child_stored_before_its_parent_still_links_them(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant, session_name="batch")["session_id"]
    parent = "0192f0c4-1111-7000-8000-000000000001"
    event(
        client, tenant, session_id=session_id, event_type="tool", event_name="search",
        parent_id=parent,
    )  # fmt: skip
    event(
        client, tenant, session_id=session_id, event_type="chain", event_name="plan",
        event_id=parent, parent_id=session_id,
    )  # fmt: skip
    found = agents_by_name(client, tenant)
    assert found["search"]["sources"] == [{"id": found["plan"]["id"]}]


def test_a_disabled_agent_emits_no_messages_but_its_data_is_kept(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    body = {"process": "quiet"}
    post(client, tenant, "/v1/start", body)
    agent = agents_by_name(client, tenant)["quiet"]
    response = client.patch(
        f"/api/v1/agents/{agent['id']}", json={"disabled": True}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["disabled"] is True
    assert post(client, tenant, "/v1/end", body).status_code == 201
    assert agents_by_name(client, tenant)["quiet"]["messages_count"] == 1
    runs = client.get("/api/v1/processes", headers=tenant.headers).json()["items"]
    assert runs[0]["last_run"]["status"] == "ok"  # the run itself was recorded
    client.patch(f"/api/v1/agents/{agent['id']}", json={"disabled": False}, headers=tenant.headers)
    post(client, tenant, "/v1/start", body)
    assert agents_by_name(client, tenant)["quiet"]["messages_count"] == 2


def _old_message(project_id: int, created_at: int) -> Callable[[WriteTx], None]:
    def job(tx: WriteTx) -> None:
        add_message(
            tx,
            project_id=project_id,
            agent=process_seed(10**12 + project_id, "aged", ""),
            created_at=created_at,
            payload={"kind": "test"},
        )

    return job


def test_expired_messages_vanish_and_retention_deletes_them(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=fresh_database_url(tmp_path), retention_raw_days=1
    )
    app = create_app(settings)
    with TestClient(app) as client:
        store: Store = app.state.store
        tenant = make_tenant(store)
        now = now_ms()
        store.write_now(_old_message(tenant.project_id, now - 2 * DAY))
        store.write_now(_old_message(tenant.project_id, now - DAY // 2))
        agent = aw_get(client, tenant, "/agents")[0]
        assert agent["messages_count"] == 2
        listed = aw_get(client, tenant, f"/agents/{agent['id']}/messages")
        assert len(listed) == 1  # the two-day-old one has expired
        assert listed[0]["expires_at"] is not None
        old_id = listed[0]["id"] - BLOCK_SIZE  # the first message of the previous block
        gone = client.get(f"/api/v1/messages/{old_id}", headers=tenant.headers)
        assert gone.status_code == 404
        assert asyncio.run(run_retention_pass(store)) >= 1
        with store.read() as conn:
            left = conn.execute(
                select(func.count()).where(message_blocks.c.project_id == tenant.project_id)
            ).scalar_one()
            count = conn.execute(
                select(agents.c.messages_count).where(agents.c.id == agent["id"])
            ).scalar_one()
        assert (left, count) == (1, 1)


def test_messages_never_expire_when_raw_data_is_kept_forever(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=fresh_database_url(tmp_path), retention_raw_days=0
    )
    app = create_app(settings)
    with TestClient(app) as client:
        store: Store = app.state.store
        tenant = make_tenant(store)
        store.write_now(_old_message(tenant.project_id, now_ms() - 400 * DAY))
        agent = aw_get(client, tenant, "/agents")[0]
        (message,) = aw_get(client, tenant, f"/agents/{agent['id']}/messages")
        assert message["expires_at"] is None


def test_with_agent_messages_off_agents_appear_but_no_message_is_written(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=fresh_database_url(tmp_path), agent_messages=False
    )
    app = create_app(settings)
    with TestClient(app) as client:
        store: Store = app.state.store
        tenant = make_tenant(store)
        run = {"process": "quiet-etl", "uid": "q1"}
        assert post(client, tenant, "/v1/start", run).status_code == 201
        metrics = {**run, "items": {"rows": 3}}
        assert post(client, tenant, "/v1/metrics", metrics).status_code == 201
        assert post(client, tenant, "/v1/end", run).status_code == 201
        point = {"stat": "quiet.signups", "value": 1}
        assert client.post("/v1/ingest", json=point, headers=tenant.headers).status_code == 202
        session = start_session(client, tenant, session_name="quiet-chat")
        event(client, tenant, session_id=session["session_id"], event_type="tool",
              event_name="lookup", parent_id=session["session_id"])  # fmt: skip
        found = agents_by_name(client, tenant)
        assert {"quiet-etl", "quiet.signups", "quiet-chat", "lookup"} <= set(found)
        assert {agent["messages_count"] for agent in found.values()} == {0}
        assert aw_get(client, tenant, f"/agents/{found['quiet-etl']['id']}/messages") == []
        with store.read() as conn:
            stored = conn.execute(
                select(func.count()).where(message_blocks.c.project_id == tenant.project_id)
            ).scalar_one()
        assert stored == 0
        # The run itself was recorded as usual.
        (process,) = client.get("/api/v1/processes", headers=tenant.headers).json()["items"]
        assert process["run_count"] == 1
