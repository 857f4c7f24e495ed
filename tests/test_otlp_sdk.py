"""The OpenTelemetry Python SDK's OTLP/HTTP exporters, protobuf and JSON, against Roost on
127.0.0.1, on both databases.

Each test uses a tracer provider of its own (never the global one, which the server's own
FastAPI would then report to) and exports to ``/v1/traces`` like any OTLP collector.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.json.http.trace_exporter import (
    OTLPSpanExporter as JsonSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as ProtobufSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

from conftest import Tenant, make_tenant
from liveserver import live_server
from roost.storage.store import Store
from tracing import only_child


@pytest.fixture(scope="module")
def base_url(app: FastAPI, client: TestClient) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def protobuf_exporter(base_url: str, tenant: Tenant) -> SpanExporter:
    return ProtobufSpanExporter(
        endpoint=f"{base_url}/v1/traces",
        headers=tenant.headers,
        compression=Compression.Gzip,
        timeout=30,
    )


def json_exporter(base_url: str, tenant: Tenant) -> SpanExporter:
    return JsonSpanExporter(endpoint=f"{base_url}/v1/traces", headers=tenant.headers, timeout=30)


EXPORTERS = {"protobuf+gzip": protobuf_exporter, "json": json_exporter}


def run_agent(exporter: SpanExporter, conversation: str) -> str:
    """An agent run instrumented by hand with OpenInference and GenAI attributes."""
    provider = TracerProvider(resource=Resource.create({"service.name": "agent-service"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("roost-test")
    with tracer.start_as_current_span(
        "agent.run",
        attributes={
            "session.id": conversation,
            "openinference.span.kind": "AGENT",
            "input.value": '{"question": "weather in Oslo?"}',
            "input.mime_type": "application/json",
            "user.id": "user-7",
        },
    ) as root:
        with (
            tracer.start_as_current_span(
                "chat gpt-test",
                attributes={
                    "session.id": conversation,
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-test",
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.usage.input_tokens": 11,
                    "gen_ai.usage.output_tokens": 7,
                    "gen_ai.input.messages": '[{"role": "user", "content": "weather in Oslo?"}]',
                },
            ),
            tracer.start_as_current_span(
                "get_weather",
                attributes={
                    "session.id": conversation,
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "get_weather",
                    "honeyhive_inputs.city": "Oslo",
                    "honeyhive_outputs.result.0": "rain",
                    "honeyhive_outputs.result.1": "4C",
                },
            ),
        ):
            pass
        with tracer.start_as_current_span(
            "summarise", attributes={"session.id": conversation}
        ) as failing:
            failing.record_exception(RuntimeError("summariser down"))
            failing.set_status(Status(StatusCode.ERROR, "summariser down"))
        root.set_attribute("output.value", "Rain, 4C")
        trace_id = format(root.get_span_context().trace_id, "032x")
    assert provider.force_flush(30_000)
    provider.shutdown()
    return trace_id


@pytest.mark.parametrize("encoding", list(EXPORTERS))
def test_the_otel_sdk_exporter_delivers_an_agent_run_as_a_session_tree(
    client: TestClient, store: Store, base_url: str, encoding: str
) -> None:
    tenant = make_tenant(store)
    conversation = f"conversation-{uuid.uuid4().hex[:8]}"
    run_agent(EXPORTERS[encoding](base_url, tenant), conversation)

    response = client.get(f"/session/{conversation}", headers=tenant.headers)
    assert response.status_code == 200
    tree = response.json()
    assert tree["event_type"] == "session"
    assert tree["event_name"] == "agent-service"  # the session was created for the spans
    agent = only_child(tree, "agent.run")
    assert agent["event_type"] == "chain"
    assert agent["inputs"] == {"input": {"question": "weather in Oslo?"}}
    assert agent["outputs"] == {"output": "Rain, 4C"}
    assert agent["user_properties"] == {"user_id": "user-7"}
    chat = only_child(agent, "chat gpt-test")
    assert chat["event_type"] == "model"
    assert chat["config"] == {
        "model": "gpt-test",
        "provider": "openai",
        "hyperparameters": {"temperature": 0.2},
    }
    assert chat["inputs"] == {"messages": [{"role": "user", "content": "weather in Oslo?"}]}
    assert chat["metadata"]["prompt_tokens"] == 11
    assert chat["metadata"]["completion_tokens"] == 7
    tool = only_child(chat, "get_weather")
    assert tool["event_type"] == "tool"
    assert tool["inputs"] == {"city": "Oslo"}
    assert tool["outputs"] == {"result": ["rain", "4C"]}
    assert tool["metadata"]["gen_ai.tool.name"] == "get_weather"
    failing = only_child(agent, "summarise")
    assert failing["error"] == "summariser down"
    assert failing["metadata"]["exceptions"][0]["type"] == "RuntimeError"
    assert tree["metadata"]["num_events"] == 4
    assert tree["metadata"]["num_model_events"] == 1
    assert tree["metadata"]["num_errors"] == 1
    assert tree["metadata"]["total_tokens"] == 18

    listed = client.get(
        "/api/v1/traces/sessions", params={"error": "true"}, headers=tenant.headers
    ).json()["sessions"]
    assert [row["event_count"] for row in listed] == [4]
    found = client.get(
        "/api/v1/traces/events", params={"q": "Oslo", "type": "tool"}, headers=tenant.headers
    ).json()["events"]
    assert [event["event_name"] for event in found] == ["get_weather"]


@pytest.mark.parametrize("encoding", list(EXPORTERS))
def test_spans_without_a_session_make_one_session_per_trace(
    client: TestClient, store: Store, base_url: str, encoding: str
) -> None:
    tenant = make_tenant(store)
    provider = TracerProvider(resource=Resource.create({"service.name": "batch-job"}))
    provider.add_span_processor(BatchSpanProcessor(EXPORTERS[encoding](base_url, tenant)))
    tracer = provider.get_tracer("roost-test")
    for run in range(2):
        with tracer.start_as_current_span(f"job-{run}"), tracer.start_as_current_span("step"):
            pass
    assert provider.force_flush(30_000)
    provider.shutdown()

    sessions = client.get("/api/v1/traces/sessions", headers=tenant.headers).json()["sessions"]
    assert len(sessions) == 2
    assert {row["name"] for row in sessions} == {"batch-job"}
    for row in sessions:
        tree = client.get(f"/session/{row['session_id']}", headers=tenant.headers).json()
        (job,) = tree["children"]
        assert job["event_name"].startswith("job-")
        assert [child["event_name"] for child in job["children"]] == ["step"]
