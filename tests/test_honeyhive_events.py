"""HoneyHive's REST API (API.md §5.3 to §5.8, §5.10): every endpoint's answer, on both databases."""

from __future__ import annotations

import uuid

import orjson
from fastapi.testclient import TestClient

from conftest import make_tenant
from roost.storage.store import Store
from tracing import find, only_child, post_event, session_tree, sessions, start_session

FIVE_IDS = ("event_id", "session_id", "org_id", "workspace_id", "project_id")


# -- POST /session/start, POST /v1/sessions ------------------------------------------------


def test_session_start_answers_the_session_event_with_the_five_ids_the_sdk_requires(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session = start_session(client, tenant, session_name="chat", source="prod", project="p")
    for key in FIVE_IDS:
        assert isinstance(session[key], str) and session[key], key
    assert session["event_id"] == session["session_id"]
    assert session["project_id"] == str(tenant.project_id)
    assert session["event_type"] == "session"
    assert session["event_name"] == "chat"
    assert session["source"] == "prod"
    assert session["parent_id"] is None
    assert uuid.UUID(session["session_id"]).version == 7  # time-ordered: see domain/traces.py


def test_session_start_takes_the_session_as_a_json_string_or_a_flat_body(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    wrapped = client.post(
        "/session/start",
        json={"session": orjson.dumps({"session_name": "as-string"}).decode()},
        headers=tenant.headers,
    )
    assert wrapped.status_code == 200
    assert wrapped.json()["event_name"] == "as-string"
    flat = client.post("/session/start", json={"session_name": "flat"}, headers=tenant.headers)
    assert flat.json()["event_name"] == "flat"
    bare = client.post("/v1/sessions", json={"session_name": "bare"}, headers=tenant.headers)
    assert bare.status_code == 200
    assert bare.json()["event_name"] == "bare"
    assert {key for key in FIVE_IDS} <= set(bare.json())


def test_a_given_session_id_is_kept_lower_cased_and_an_invalid_one_replaced(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    given = str(uuid.uuid4())
    assert start_session(client, tenant, session_id=given.upper())["session_id"] == given
    replaced = start_session(client, tenant, session_id="not-a-uuid")["session_id"]
    assert replaced != "not-a-uuid"
    assert uuid.UUID(replaced)


def test_starting_a_session_twice_merges_metadata_and_user_properties(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    start_session(
        client,
        tenant,
        session_id=session_id,
        session_name="first",
        metadata={"a": 1},
        user_properties={"tier": "free"},
    )
    again = start_session(
        client,
        tenant,
        session_id=session_id,
        session_name="second",
        metadata={"b": 2},
        user_properties={"tier": "pro"},
    )
    assert again["event_name"] == "first"
    assert again["metadata"] == {"a": 1, "b": 2}
    assert again["user_properties"] == {"tier": "pro"}
    assert len(sessions(client, tenant)) == 1
    assert [row["session_id"] for row in sessions(client, tenant, user_property="tier:pro")] == [
        session_id
    ]


def test_times_are_unix_milliseconds_and_missing_ones_are_derived(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session = start_session(client, tenant, start_time=1714978764301.5, duration=20)
    assert session["start_time"] == 1714978764301.5
    assert session["end_time"] == 1714978764321.5
    assert session["duration"] == 20
    now_session = start_session(client, tenant, start_time="yesterday")
    assert now_session["start_time"] > 1_700_000_000_000


# -- POST /session/{session_id}/event --------------------------------------------------------


def test_the_old_per_session_endpoint_stores_nested_children_as_a_tree(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant, session_name="s")["session_id"]
    body = {
        "event_type": "chain",
        "event_name": "plan",
        "session_id": str(uuid.uuid4()),  # the path's id wins
        "inputs": {"goal": "book a table"},
        "children": [
            {
                "event_type": "model",
                "event_name": "think",
                "start_time": 1000,
                "children": [{"event_type": "tool", "event_name": "search"}],
            },
            {"event_type": "tool", "event_name": "call", "start_time": 2000},
        ],
    }
    response = client.post(f"/session/{session_id}/event", json=body, headers=tenant.headers)
    assert response.status_code == 200
    answer = response.json()
    assert answer["success"] is True
    tree = session_tree(client, tenant, session_id)
    plan = only_child(tree, "plan")
    assert plan["event_id"] == answer["event_id"]
    assert plan["inputs"] == {"goal": "book a table"}
    assert [child["event_name"] for child in plan["children"]] == ["think", "call"]
    think = plan["children"][0]
    assert [child["event_name"] for child in think["children"]] == ["search"]
    assert think["children"][0]["parent_id"] == think["event_id"]
    assert plan["children_ids"] == [child["event_id"] for child in plan["children"]]


def test_an_event_for_a_session_never_started_creates_the_session(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/session/conversation-7/event",
        json={"event_type": "tool", "event_name": "lookup"},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    tree = session_tree(client, tenant, "conversation-7")
    assert tree["event_type"] == "session"
    assert tree["event_name"] == "unknown"
    assert [child["event_name"] for child in tree["children"]] == ["lookup"]
    # A later start fills in what the made-up session lacked.
    start_session(client, tenant, session_id=tree["session_id"], session_name="named", source="s")
    renamed = session_tree(client, tenant, "conversation-7")
    assert (renamed["event_name"], renamed["source"]) == ("named", "s")


# -- POST /events, /v1/events, /events/model ----------------------------------------------------


def test_create_event_answers_success_and_the_event_id(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    response = client.post(
        "/events",
        json={
            "event": {
                "event_type": "Model",  # a client upper-cases it
                "event_name": "llm",
                "session_id": session_id,
                "inputs": {"prompt": "hi"},
                "outputs": {"text": "hello"},
                "config": {"model": "gpt-test"},
                "metadata": {"prompt_tokens": 3, "completion_tokens": 2, "cost": 0.01},
                "error": None,
            }
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert response.json()["success"] is True
    event = client.get(f"/v1/events/{response.json()['event_id']}", headers=tenant.headers)
    stored = event.json()["event"]
    assert stored["event_type"] == "model"
    assert stored["parent_id"] == session_id
    assert stored["outputs"] == {"text": "hello"}
    tree = session_tree(client, tenant, session_id)
    assert tree["metadata"]["total_tokens"] == 5
    assert tree["metadata"]["num_model_events"] == 1


def test_v1_events_takes_a_bare_or_string_wrapped_event(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    bare = client.post(
        "/v1/events", json={"event_type": "tool", "inputs": {}}, headers=tenant.headers
    )
    wrapped = client.post(
        "/v1/events",
        json={"event": orjson.dumps({"event_type": "chain", "inputs": {"x": 1}}).decode()},
        headers=tenant.headers,
    )
    assert bare.status_code == wrapped.status_code == 200
    assert {"success", "event_id"} <= set(bare.json()) & set(wrapped.json())
    # Without a session id each event gets a session of its own.
    assert len(sessions(client, tenant)) == 2


def test_an_event_without_event_type_or_inputs_is_400(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for event in ({"inputs": {}}, {"event_type": "tool"}, {"event_type": "agent", "inputs": {}}):
        response = client.post("/events", json={"event": event}, headers=tenant.headers)
        assert response.status_code == 400
        assert response.json()["errorCode"] == "VALIDATION_ERROR"
        assert response.json()["message"].startswith("event.")


def test_model_events_sort_their_fields_into_config_inputs_outputs_and_metadata(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/events/model",
        json={
            "model_event": {
                "model": "gpt-test",
                "provider": "openai",
                "messages": [{"role": "user", "content": "hi"}],
                "response": {"role": "assistant", "content": "hello"},
                "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10},
                "cost": 0.02,
                "hyperparameters": {"temperature": 0},
            }
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200
    event = client.get(f"/v1/events/{response.json()['event_id']}", headers=tenant.headers)
    stored = event.json()["event"]
    assert stored["event_type"] == "model"
    assert stored["event_name"] == "gpt-test"
    assert stored["config"] == {
        "model": "gpt-test",
        "provider": "openai",
        "hyperparameters": {"temperature": 0},
    }
    assert stored["inputs"] == {"messages": [{"role": "user", "content": "hi"}]}
    assert stored["outputs"] == {"response": {"role": "assistant", "content": "hello"}}
    assert stored["metadata"]["total_tokens"] == 10
    assert stored["metadata"]["cost"] == 0.02


# -- batches ----------------------------------------------------------------------------------


def test_a_single_session_batch_puts_every_event_in_one_new_session(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/events/batch",
        json={
            "events": [
                {"event_type": "model", "inputs": {"a": 1}},
                {"event_type": "chain", "inputs": {}},
            ],
            "is_single_session": True,
            "session_properties": {"session_name": "b", "user_properties": {"team": "x"}},
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["success"] is True
    assert len(answer["event_ids"]) == 2
    tree = session_tree(client, tenant, answer["session_id"])
    assert tree["event_name"] == "b"
    assert sorted(child["event_id"] for child in tree["children"]) == sorted(answer["event_ids"])
    assert sessions(client, tenant, user_property="team:x")[0]["session_id"] == tree["session_id"]


def test_a_batch_without_single_session_keeps_each_events_session(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    response = client.post(
        "/v1/events/batch",
        json={
            "events": [
                {"event_type": "tool", "session_id": session_id, "inputs": {}},
                {"event_type": "tool", "inputs": {}},
            ]
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert "session_id" not in response.json()
    first, second = response.json()["event_ids"]
    assert find(session_tree(client, tenant, session_id), first) is not None
    others = [row for row in sessions(client, tenant) if row["session_id"] != session_id]
    assert [row["event_count"] for row in others] == [1]
    assert find(session_tree(client, tenant, others[0]["session_id"]), second) is not None


def test_a_batch_with_bad_events_stores_the_good_ones_and_names_the_bad(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/events/batch",
        json={
            "events": [
                {"event_type": "tool", "inputs": {}},
                {"event_type": "nonsense", "inputs": {}},
                "not an event",
            ],
            "single_session": True,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 400
    answer = response.json()
    assert answer["success"] is False
    assert len(answer["event_ids"]) == 1
    assert [error.split(":")[0] for error in answer["errors"]] == ["1", "2"]
    tree = session_tree(client, tenant, answer["session_id"])
    assert [child["event_id"] for child in tree["children"]] == answer["event_ids"]


def test_model_event_batches_answer_event_ids(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/events/model/batch",
        json={
            "model_events": [{"model": "a"}, {"model": "b"}],
            "is_single_session": True,
            "session_properties": orjson.dumps({"session_name": "models"}).decode(),
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200
    tree = session_tree(client, tenant, response.json()["session_id"])
    assert tree["event_name"] == "models"
    assert sorted(child["event_name"] for child in tree["children"]) == ["a", "b"]
    assert {child["event_type"] for child in tree["children"]} == {"model"}


def test_session_traces_take_logs_or_events(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    for key, path in (
        ("logs", f"/session/{session_id}/traces"),
        ("events", f"/session/{session_id}/traces"),
        ("events", f"/v1/sessions/{session_id}/events/batch"),
    ):
        response = client.post(
            path,
            json={key: [{"event_type": "tool", "event_name": key, "session_id": "ignored"}]},
            headers=tenant.headers,
        )
        assert response.status_code == 200
        assert response.json() == {"success": True}
    names = [child["event_name"] for child in session_tree(client, tenant, session_id)["children"]]
    assert sorted(names) == ["events", "events", "logs"]


# -- PUT /events, PUT /v1/events/{id} -----------------------------------------------------------


def test_update_merges_objects_replaces_times_and_unions_children(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    event_id = post_event(
        client,
        tenant,
        event_type="model",
        session_id=session_id,
        inputs={"q": 1},
        metadata={"keep": True},
        start_time=1000.0,
        duration=1,
    )
    child = str(uuid.uuid4())
    response = client.put(
        "/events",
        json={
            "event_id": event_id,
            "metadata": {"total_tokens": 9, "cost": 0.5},
            "feedback": {"rating": 4},
            "outputs": {"answer": "x"},
            "duration": 250,
            "children_ids": [child],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert response.json() == {"success": True}
    stored = client.get(f"/v1/events/{event_id}", headers=tenant.headers).json()["event"]
    assert stored["metadata"] == {"keep": True, "total_tokens": 9, "cost": 0.5}
    assert stored["feedback"] == {"rating": 4}
    assert stored["outputs"] == {"answer": "x"}
    assert (stored["duration"], stored["end_time"]) == (250, 1250.0)
    assert stored["children_ids"] == [child]
    tree = session_tree(client, tenant, session_id)
    assert tree["metadata"]["total_tokens"] == 9
    assert tree["metadata"]["cost"] == 0.5


def test_update_by_session_id_enriches_the_session(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant, user_properties={"plan": "free"})["session_id"]
    response = client.put(
        f"/v1/events/{session_id}",
        json={"user_properties": {"plan": "team"}, "metrics": {"score": 0.9}},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    tree = session_tree(client, tenant, session_id)
    assert tree["user_properties"] == {"plan": "team"}
    assert tree["metrics"] == {"score": 0.9}
    assert sessions(client, tenant, user_property="plan:team")
    assert not sessions(client, tenant, user_property="plan:free")


def test_updating_an_unknown_event_is_404_and_a_missing_id_400(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    unknown = client.put(
        "/events", json={"event_id": str(uuid.uuid4()), "metadata": {}}, headers=tenant.headers
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "event not found", "errorCode": "NOT_FOUND"}
    missing = client.put("/events", json={"metadata": {}}, headers=tenant.headers)
    assert missing.status_code == 400
    assert missing.json()["errorCode"] == "VALIDATION_ERROR"


# -- reads --------------------------------------------------------------------------------------


def test_get_session_nests_children_oldest_first_and_counts_events(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant, start_time=1000.0)["session_id"]
    late = post_event(
        client, tenant, event_type="tool", session_id=session_id, inputs={}, start_time=3000.0
    )
    early = post_event(
        client, tenant, event_type="model", session_id=session_id, inputs={}, start_time=2000.0
    )
    for path in (f"/session/{session_id}", f"/v1/sessions/{session_id}"):
        tree = client.get(path, headers=tenant.headers).json()
        assert [child["event_id"] for child in tree["children"]] == [early, late]
        assert tree["children_ids"] == [early, late]
        assert tree["metadata"]["num_events"] == 2
        assert tree["metadata"]["num_model_events"] == 1
        assert tree["end_time"] == 3000.0


def test_unknown_sessions_and_events_are_404_in_honeyhives_shape(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for path in (f"/session/{uuid.uuid4()}", f"/v1/sessions/{uuid.uuid4()}", "/v1/events/x"):
        response = client.get(path, headers=tenant.headers)
        assert response.status_code == 404
        assert response.json()["errorCode"] == "NOT_FOUND"


def test_an_input_of_one_megabyte_is_stored_and_read_back_whole(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    big = "é" + "x" * (1024 * 1024)
    event_id = post_event(client, tenant, event_type="tool", inputs={"document": big})
    stored = client.get(f"/v1/events/{event_id}", headers=tenant.headers).json()["event"]
    assert stored["inputs"]["document"] == big
    found = client.get(
        "/api/v1/traces/events", params={"q": "éxxx"}, headers=tenant.headers
    ).json()["events"]
    assert [event["event_id"] for event in found] == [event_id]


def test_a_tree_fifty_levels_deep_reads_back_whole(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    parent = session_id
    ids = []
    for level in range(50):
        parent = post_event(
            client,
            tenant,
            event_type="chain",
            event_name=f"level-{level}",
            session_id=session_id,
            parent_id=parent,
            inputs={"level": level},
            start_time=1000.0 + level,
        )
        ids.append(parent)
    node = session_tree(client, tenant, session_id)
    for level, event_id in enumerate(ids):
        (node,) = node["children"]
        assert (node["event_id"], node["inputs"]) == (event_id, {"level": level})
    assert node["children"] == []


def test_export_filters_pages_and_counts_events(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    for number in range(5):
        post_event(
            client,
            tenant,
            event_type="model" if number % 2 else "tool",
            event_name=f"e{number}",
            session_id=session_id,
            inputs={"n": number},
            metadata={"cost": number / 10},
            start_time=1_714_978_764_000.0 + number,
            error="failed" if number == 4 else None,
        )

    def export(body: dict) -> dict:
        response = client.post("/v1/events/export", json=body, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return response.json()

    models = export({"filters": [{"field": "event_type", "operator": "is", "value": "model"}]})
    assert sorted(event["event_name"] for event in models["events"]) == ["e1", "e3"]
    assert models["totalEvents"] == models["count"] == 2
    paged = export(
        {
            "filters": [{"field": "session_id", "operator": "is", "value": session_id}],
            "limit": 2,
            "page": 2,
        }
    )
    assert paged["totalEvents"] == 6  # the session event too
    assert len(paged["events"]) == 2
    costly = export(
        {"filters": [{"field": "metadata.cost", "operator": "greater than", "value": "0.25"}]}
    )
    assert sorted(event["event_name"] for event in costly["events"]) == ["e3", "e4"]
    failed = export({"filters": [{"field": "error", "operator": "exists", "value": None}]})
    assert [event["event_name"] for event in failed["events"]] == ["e4"]
    text = export({"filters": [{"field": "inputs", "operator": "contains", "value": '"n": 2'}]})
    assert text["totalEvents"] == 0  # stored JSON is compact …
    text = export({"filters": [{"field": "inputs", "operator": "contains", "value": '"n":2'}]})
    assert [event["event_name"] for event in text["events"]] == ["e2"]  # … and found as such
    dated = export(
        {
            "filters": [{"field": "event_type", "operator": "is not", "value": "session"}],
            "dateRange": {"$gte": "2024-05-06T06:59:00Z", "$lte": 1_714_978_764_002},
        }
    )
    assert sorted(event["event_name"] for event in dated["events"]) == ["e0", "e1", "e2"]
    search = client.post(
        "/v1/events/search",
        json={"filters": [{"field": "event_name", "operator": "is", "value": "e0"}]},
        headers=tenant.headers,
    )
    assert search.json()["count"] == 1


def test_export_refuses_unknown_fields_and_operators(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for body in (
        {"filters": [{"field": "nope", "operator": "is", "value": "x"}]},
        {"filters": [{"field": "event_type", "operator": "resembles", "value": "x"}]},
        {"filters": [{"field": "duration", "operator": "greater than", "value": "long"}]},
        {"filters": [{"field": "inputs", "operator": "is", "value": "x"}]},
        {"limit": 0},
        {"limit": 7501},
        {"dateRange": {"$gte": "last tuesday"}},
        {"filters": "event_type"},
    ):
        response = client.post("/v1/events/export", json=body, headers=tenant.headers)
        assert response.status_code == 400, body
        assert response.json()["errorCode"] == "VALIDATION_ERROR"


def test_trace_events_feed_latency_token_and_cost_series(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = start_session(client, tenant)["session_id"]
    post_event(
        client,
        tenant,
        event_type="model",
        session_id=session_id,
        inputs={},
        duration=120,
        metadata={"total_tokens": 50, "cost": 0.25},
    )
    post_event(
        client, tenant, event_type="tool", session_id=session_id, inputs={}, error="x", duration=5
    )
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    by_key = {(stat["name"], orjson.dumps(stat["labels"]).decode()): stat for stat in stats}
    assert by_key[("trace.latency_ms", '{"event_type":"model"}')]["last_value"] == 120
    assert by_key[("trace.tokens", "{}")]["last_value"] == 50
    assert by_key[("trace.cost", "{}")]["last_value"] == 0.25
    assert by_key[("trace.errors", '{"event_type":"tool"}')]["last_value"] == 1
    events = by_key[("trace.events", '{"event_type":"model"}')]
    data = client.get(f"/v1/stats/{events['id']}/data", headers=tenant.headers).json()
    assert sum(point["value"] for point in data["points"]) == 1
