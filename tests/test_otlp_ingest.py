"""OTLP/HTTP trace ingest (API.md §5.9): encodings, the span → event mapping, re-delivery,
child-first arrival and every refusal, on both databases."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status as RpcStatus
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from conftest import Tenant, add_key, make_tenant
from otlp_requests import START_NS, SpanSpec, json_body, new_trace_id, protobuf_body, span
from roost.storage.store import Store
from tracing import only_child, session_tree, sessions, stored_nothing

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
ENCODINGS = {"protobuf": (protobuf_body, PROTOBUF), "json": (json_body, JSON)}
PATHS = ("/opentelemetry/v1/traces", "/v1/traces")
START_S = START_NS // 1_000_000_000


def export(
    client: TestClient,
    tenant: Tenant,
    spans: list[SpanSpec],
    encoding: str = "protobuf",
    path: str = "/v1/traces",
    **headers: str,
) -> httpx.Response:
    encode, content_type = ENCODINGS[encoding]
    return client.post(
        path, content=encode(spans), headers={**tenant.headers, **content_type, **headers}
    )


def honeyhive_span(
    name: str, trace_id: str, session_id: str, parent: str | None = None, **attrs: Any
) -> SpanSpec:
    return span(name, trace_id, parent, **{"honeyhive.session_id": session_id, **attrs})


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("path", PATHS)
def test_both_paths_take_both_encodings_and_answer_200(
    client: TestClient, store: Store, encoding: str, path: str
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    response = export(
        client, tenant, [honeyhive_span("work", new_trace_id(), session_id)], encoding, path
    )
    assert response.status_code == 200
    if encoding == "protobuf":
        assert response.headers["content-type"] == "application/x-protobuf"
        answer = ExportTraceServiceResponse.FromString(response.content)
        assert answer.partial_success.rejected_spans == 0
    else:
        assert response.json() == {}
    assert [
        child["event_name"] for child in session_tree(client, tenant, session_id)["children"]
    ] == ["work"]


def test_the_honeyhive_sdks_json_is_read_with_all_its_deviations(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    trace_id = new_trace_id()
    root = honeyhive_span(
        "app.answer",
        trace_id,
        session_id,
        **{
            "honeyhive.project": "ignored",
            "traceloop.association.properties.session_id": session_id,
            "honeyhive_event_type": "chain",
            "honeyhive_inputs.question": "hi",
            "honeyhive_inputs.options": '{"temperature": 0.1, "tags": ["a"]}',
            "honeyhive_outputs.result.0.role": "assistant",
            "honeyhive_outputs.result.0.content": "hello",
            "honeyhive_outputs.result.1.role": "tool",
            "honeyhive_metrics.score": 0.5,
            "honeyhive_feedback.thumbs": True,
            "honeyhive_user_properties.user.id": "u-1",
            "honeyhive_config.model": "gpt-test",
            "honeyhive_duration_ms": 12.5,
            "count": 2,  # intValue as a string
            "ratio": float("nan"),  # doubleValue "NaN"
            "tags": ["x", "y"],  # arrayValue
            "labels": {"team": "ai", "depth": 3},  # kvlistValue
            "blob": b"\x00\x01",  # bytesValue
        },
    )
    child = honeyhive_span(
        "llm",
        trace_id,
        session_id,
        root.span_id,
        honeyhive_event_type="model",
        honeyhive_event_name="call-llm",
    )
    response = export(client, tenant, [root, child], "json", "/opentelemetry/v1/traces")
    assert response.status_code == 200, response.text

    tree = session_tree(client, tenant, session_id)
    answer = only_child(tree, "app.answer")
    assert answer["event_type"] == "chain"
    assert answer["inputs"] == {"question": "hi", "options": {"temperature": 0.1, "tags": ["a"]}}
    assert answer["outputs"] == {
        "result": [{"role": "assistant", "content": "hello"}, {"role": "tool"}]
    }
    assert answer["metrics"] == {"score": 0.5}
    assert answer["feedback"] == {"thumbs": True}
    assert answer["user_properties"] == {"user": {"id": "u-1"}}
    assert answer["config"] == {"model": "gpt-test"}
    assert answer["duration"] == 12.5
    assert answer["start_time"] == 1_795_000_000_000.0
    metadata = answer["metadata"]
    assert metadata["count"] == 2
    assert metadata["ratio"] is None
    assert metadata["tags"] == ["x", "y"]
    assert metadata["labels"] == {"team": "ai", "depth": 3}
    assert metadata["blob"] == "AAE="
    assert "honeyhive.project" not in metadata
    assert not any(key.startswith("traceloop.") for key in metadata)
    llm = only_child(answer, "call-llm")
    assert llm["event_type"] == "model"
    assert llm["parent_id"] == answer["event_id"]


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_spans_arriving_child_first_hang_from_their_parent_once_it_arrives(
    client: TestClient, store: Store, encoding: str
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    trace_id = new_trace_id()
    root = honeyhive_span("root", trace_id, session_id)
    middle = honeyhive_span("middle", trace_id, session_id, root.span_id)
    leaf = honeyhive_span("leaf", trace_id, session_id, middle.span_id)

    assert export(client, tenant, [leaf], encoding).status_code == 200
    early = session_tree(client, tenant, session_id)
    # Until its parent arrives, the leaf is shown under the session.
    assert [child["event_name"] for child in early["children"]] == ["leaf"]
    assert export(client, tenant, [middle], encoding).status_code == 200
    assert export(client, tenant, [root], encoding).status_code == 200

    tree = session_tree(client, tenant, session_id)
    (root_node,) = tree["children"]
    (middle_node,) = root_node["children"]
    (leaf_node,) = middle_node["children"]
    assert [root_node["event_name"], middle_node["event_name"], leaf_node["event_name"]] == [
        "root",
        "middle",
        "leaf",
    ]
    assert leaf_node["parent_id"] == middle_node["event_id"]
    assert tree["metadata"]["num_events"] == 3


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_redelivered_span_overwrites_its_event_and_counts_once(
    client: TestClient, store: Store, encoding: str
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    trace_id = new_trace_id()
    first = honeyhive_span(
        "llm",
        trace_id,
        session_id,
        honeyhive_event_type="model",
        **{"honeyhive_metadata.total_tokens": 10, "honeyhive_outputs.text": "draft"},
    )
    again = SpanSpec(
        first.name,
        first.trace_id,
        first.span_id,
        attributes={**first.attributes, "honeyhive_outputs.text": "final"},
    )
    for attempt in (first, first, again):
        assert export(client, tenant, [attempt], encoding).status_code == 200

    tree = session_tree(client, tenant, session_id)
    (llm,) = tree["children"]
    assert llm["outputs"] == {"text": "final"}
    assert tree["metadata"]["num_events"] == 1
    assert tree["metadata"]["num_model_events"] == 1
    assert tree["metadata"]["total_tokens"] == 10
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    events = next(
        stat
        for stat in stats
        if stat["name"] == "trace.events" and stat["labels"] == {"event_type": "model"}
    )
    data = client.get(
        f"/v1/stats/{events['id']}/data",
        params={"from": START_S - 86_400, "to": START_S + 86_400, "resolution": "1d"},
        headers=tenant.headers,
    ).json()
    assert sum(point["value"] for point in data["points"]) == 1


def test_spans_from_many_traces_and_sessions_in_one_request_land_in_their_sessions(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    batch = []
    session_ids = [str(uuid.uuid4()) for _ in range(3)]
    for session_id in session_ids:
        trace_id = new_trace_id()
        root = honeyhive_span("root", trace_id, session_id)
        batch += [root] + [
            honeyhive_span(f"step-{n}", trace_id, session_id, root.span_id) for n in range(33)
        ]
    assert export(client, tenant, batch).status_code == 200
    for session_id in session_ids:
        tree = session_tree(client, tenant, session_id)
        assert len(only_child(tree, "root")["children"]) == 33
        assert tree["metadata"]["num_events"] == 34


def test_auto_created_sessions_take_their_name_from_the_span(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    spec = honeyhive_span(
        "work",
        new_trace_id(),
        session_id,
        **{"honeyhive.session_auto_create": True, "honeyhive.session_name": "nightly-eval"},
    )
    assert (
        export(
            client, tenant, [spec], "json", "/opentelemetry/v1/traces", **{"X-Source": "ci"}
        ).status_code
        == 200
    )
    tree = session_tree(client, tenant, session_id)
    assert tree["event_name"] == "nightly-eval"
    assert tree["source"] == "ci"
    assert tree["children"][0]["source"] == "ci"


def test_honeyhive_parent_and_error_attributes_are_honoured(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    parent = honeyhive_span("parent", new_trace_id(), session_id)
    assert export(client, tenant, [parent]).status_code == 200
    parent_event_id = session_tree(client, tenant, session_id)["children"][0]["event_id"]
    # A span of another trace, hung below the parent by the SDK's baggage attribute.
    failing = honeyhive_span(
        "boom_error",
        new_trace_id(),
        session_id,
        **{
            "honeyhive.parent_id": parent_event_id,
            "honeyhive_error": "bad input",
            "honeyhive_error_type": "ValueError",
        },
    )
    failing.error = "ValueError: bad input"
    failing.exception = ("ValueError", "bad input")
    status_only = honeyhive_span("timeout", new_trace_id(), session_id)
    status_only.error = ""
    status_only.exception = ("TimeoutError", "took too long")
    assert export(client, tenant, [failing, status_only], "json").status_code == 200
    tree = session_tree(client, tenant, session_id)
    boom = only_child(only_child(tree, "parent"), "boom_error")
    assert boom["event_name"] == "boom_error"
    assert boom["error"] == "bad input"
    assert boom["metadata"]["error_type"] == "ValueError"
    assert boom["metadata"]["exceptions"] == [
        {"type": "ValueError", "message": "bad input", "stacktrace": None}
    ]
    timeout = only_child(tree, "timeout")
    assert timeout["error"] == "took too long"
    assert tree["metadata"]["num_errors"] == 2
    assert sessions(client, tenant, error="true")[0]["error_count"] == 2


def test_openinference_llm_spans_give_model_tokens_cost_and_messages(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    spec = span(
        "ChatCompletion",
        new_trace_id(),
        **{
            "session.id": "chat-42",
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-test",
            "llm.provider": "openai",
            "llm.invocation_parameters": '{"temperature": 0.3, "max_tokens": 50}',
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "be brief",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "hi",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "hello",
            "llm.token_count.prompt": 9,
            "llm.token_count.completion": 1,
            "llm.token_count.total": 10,
            "llm.cost.total": 0.0004,
            "metadata": '{"run": "r1"}',
        },
    )
    assert export(client, tenant, [spec]).status_code == 200
    tree = session_tree(client, tenant, "chat-42")
    llm = only_child(tree, "ChatCompletion")
    assert llm["event_type"] == "model"
    assert llm["config"] == {
        "model": "gpt-test",
        "provider": "openai",
        "hyperparameters": {"temperature": 0.3, "max_tokens": 50},
    }
    assert llm["inputs"] == {
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    }
    assert llm["outputs"] == {"messages": [{"role": "assistant", "content": "hello"}]}
    assert (llm["metadata"]["prompt_tokens"], llm["metadata"]["total_tokens"]) == (9, 10)
    assert tree["metadata"]["cost"] == pytest.approx(0.0004)
    assert tree["metadata"]["total_tokens"] == 10


def test_gzip_bodies_are_inflated(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    body = gzip.compress(json_body([honeyhive_span("zipped", new_trace_id(), session_id)]))
    response = client.post(
        "/v1/traces",
        content=body,
        headers={**tenant.headers, **JSON, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200
    assert session_tree(client, tenant, session_id)["children"][0]["event_name"] == "zipped"


def test_a_missing_content_type_is_guessed_from_the_body(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for encode in (protobuf_body, json_body):
        session_id = str(uuid.uuid4())
        body = encode([honeyhive_span("guessed", new_trace_id(), session_id)])
        response = client.post("/v1/traces", content=body, headers=tenant.headers)
        assert response.status_code == 200
        assert session_tree(client, tenant, session_id)["children"][0]["event_name"] == "guessed"


# -- refusals -----------------------------------------------------------------------------------


def test_a_missing_unknown_or_read_only_key_is_refused(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    spans = [honeyhive_span("x", new_trace_id(), str(uuid.uuid4()))]
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    for headers, status in (({}, 401), ({"Authorization": "Bearer rk_nobody"}, 401), (reader, 403)):
        for encoding, (encode, content_type) in ENCODINGS.items():
            response = client.post(
                "/v1/traces", content=encode(spans), headers={**headers, **content_type}
            )
            assert response.status_code == status
            if encoding == "json":
                assert response.json()["code"] in (7, 16)
            else:
                assert RpcStatus.FromString(response.content).code in (7, 16)
    assert stored_nothing(client, tenant)


BAD_BODIES: list[tuple[bytes, dict[str, str]]] = [
    (b"\xff\x00garbage", PROTOBUF),
    (b"{not json", JSON),
    (b"[]", JSON),
    (b'{"resourceSpans": {"a": 1}}', JSON),
    (b'{"resourceSpans": [5]}', JSON),
    (b'{"resourceSpans": [{"scopeSpans": "x"}]}', JSON),
    (b"not gzip at all", {**JSON, "Content-Encoding": "gzip"}),
]


@pytest.mark.parametrize(("body", "headers"), BAD_BODIES)
def test_undecodable_bodies_are_400_and_write_nothing(
    client: TestClient, store: Store, body: bytes, headers: dict[str, str]
) -> None:
    tenant = make_tenant(store)
    response = client.post("/v1/traces", content=body, headers={**tenant.headers, **headers})
    assert response.status_code == 400
    if headers["Content-Type"] == PROTOBUF["Content-Type"]:
        status = RpcStatus.FromString(response.content)
        assert status.code == 3 and "protobuf" in status.message
    else:
        assert response.json()["code"] == 3
    assert stored_nothing(client, tenant)


def test_an_unknown_content_encoding_is_415(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/v1/traces", content=b"{}", headers={**tenant.headers, **JSON, "Content-Encoding": "br"}
    )
    assert response.status_code == 415


def test_a_gzip_body_that_inflates_past_the_limit_is_413(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    bomb = gzip.compress(b" " * (4 * store.settings.max_body_bytes + 10))
    response = client.post(
        "/v1/traces",
        content=bomb,
        headers={**tenant.headers, **JSON, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413
    assert stored_nothing(client, tenant)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_spans_that_cannot_be_stored_are_counted_as_rejected(
    client: TestClient, store: Store, encoding: str
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    good = honeyhive_span("good", new_trace_id(), session_id)
    no_ids = SpanSpec("no-ids", "00" * 16, "00" * 8)
    # Decoded as a JSON argument, then nested deeper than can be stored.
    too_deep = honeyhive_span(
        "too-deep", new_trace_id(), session_id, **{"honeyhive_inputs.x": "[" * 300 + "]" * 300}
    )
    response = export(client, tenant, [good, no_ids, too_deep], encoding)
    assert response.status_code == 200
    if encoding == "protobuf":
        rejected = ExportTraceServiceResponse.FromString(response.content).partial_success
        assert rejected.rejected_spans == 2
    else:
        assert response.json()["partialSuccess"]["rejectedSpans"] == 2
    names = [child["event_name"] for child in session_tree(client, tenant, session_id)["children"]]
    assert names == ["good"]


def test_another_project_neither_sees_nor_touches_the_spans(
    client: TestClient, store: Store
) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    session_id = str(uuid.uuid4())
    spec = honeyhive_span("mine", new_trace_id(), session_id, **{"honeyhive_inputs.secret": "s"})
    assert export(client, owner, [spec]).status_code == 200
    assert client.get(f"/session/{session_id}", headers=other.headers).status_code == 404
    assert stored_nothing(client, other)
    # The same span sent with another project's key is that project's own copy.
    spec.attributes["honeyhive_inputs.secret"] = "theirs"
    assert export(client, other, [spec]).status_code == 200
    mine = session_tree(client, owner, session_id)["children"][0]
    theirs = session_tree(client, other, session_id)["children"][0]
    assert mine["event_id"] == theirs["event_id"]
    assert (mine["inputs"], theirs["inputs"]) == ({"secret": "s"}, {"secret": "theirs"})


def test_a_request_of_twelve_thousand_spans_is_stored_whole(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    session_id = str(uuid.uuid4())
    trace_id = new_trace_id()
    root = honeyhive_span("root", trace_id, session_id)
    spans = [root] + [
        honeyhive_span(f"step-{n % 7}", trace_id, session_id, root.span_id) for n in range(11_999)
    ]
    assert export(client, tenant, spans).status_code == 200
    assert export(client, tenant, spans[:5000]).status_code == 200  # re-delivered, not counted
    rows = sessions(client, tenant)
    assert [(row["session_id"], row["event_count"]) for row in rows] == [(session_id, 12_000)]
