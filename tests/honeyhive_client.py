"""A program that uses the real HoneyHive SDK, run by the tests as a subprocess.

    python tests/honeyhive_client.py SCENARIO

The SDK installs a process-wide OpenTelemetry tracer provider, which in the test process
would also trace the Roost server under test; a process of its own keeps client and server
apart, as in real use. The server URL and key come from ``HH_API_URL`` and ``HH_API_KEY``
(the test sets them to a server on 127.0.0.1, and nothing else); ``HH_OTLP_PROTOCOL`` picks
JSON (the SDK's default) or ``http/protobuf``. Prints one JSON object with what the test
needs to read the results back.

Scenarios:

- ``tracer``: a session with ``@trace``d functions three levels deep, an enriched span, an
  exception, then ``enrich_session``.
- ``client``: the SDK's REST client: ``events.create``, ``events.create_batch``,
  ``events.update`` and ``events.export``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any


def tracer_scenario() -> dict[str, Any]:
    from honeyhive import HoneyHiveTracer, trace

    tracer = HoneyHiveTracer.init(
        api_key=os.environ["HH_API_KEY"],
        server_url=os.environ["HH_API_URL"],
        session_name="support-bot",
        source="sdk-test",
        inputs={"question": "where is my order?"},
        disable_batch=True,  # export each span as it ends
        disable_http_tracing=True,
    )

    @trace(event_type="chain", tracer=tracer)
    def answer(question: str) -> str:
        documents = retrieve(question, limit=2)
        reply = generate(question, {"temperature": 0.1, "documents": documents})
        return str(reply["content"])

    @trace(event_type="tool", tracer=tracer)
    def retrieve(query: str, limit: int) -> list[str]:
        return [f"doc-{n}" for n in range(limit)]

    @trace(event_type="model", event_name="llm-call", tracer=tracer)
    def generate(prompt: str, options: dict[str, Any]) -> dict[str, str]:
        tracer.enrich_span(
            metadata={"prompt_tokens": 30, "completion_tokens": 12, "cost": 0.0021},
            config={"model": "gpt-test"},
        )
        return {"role": "assistant", "content": f"about {prompt}"}

    @trace(tracer=tracer)
    def fail() -> None:
        raise ValueError("the tool broke")

    answer("where is my order?")
    with contextlib.suppress(ValueError):
        fail()
    tracer.enrich_session(
        metadata={"user": "u-1"},
        feedback={"rating": 5},
        metrics={"resolved": 1},
        outputs={"final": "shipped"},
        user_properties={"tier": "pro"},
    )
    flushed = tracer.force_flush()
    session_id = tracer.session_id
    tracer.shutdown()
    return {"session_id": session_id, "flushed": flushed}


def client_scenario() -> dict[str, Any]:
    from honeyhive import HoneyHive
    from honeyhive._generated.models import (
        LegacyPostEventRequest,
        LegacyUpdateEventRequest,
        PostEventBatchRequest,
    )
    from honeyhive.models import EventFilter

    client = HoneyHive(api_key=os.environ["HH_API_KEY"], base_url=os.environ["HH_API_URL"])
    created = client.events.create(
        LegacyPostEventRequest(
            event={
                "event_type": "tool",
                "event_name": "manual",
                "inputs": {"q": 1},
                "start_time": 1714978764301.0,
                "duration": 5.5,
            }
        )
    )
    batch = client.events.create_batch(
        PostEventBatchRequest(
            events=[
                {"event_type": "model", "event_name": "m", "inputs": {"a": 1}},
                {"event_type": "chain", "event_name": "c", "inputs": {}},
            ],
            is_single_session=True,
            session_properties={"session_name": "batch-session"},
        )
    )
    client.events.update(LegacyUpdateEventRequest(event_id=created.event_id, outputs={"n": 42}))
    exported = client.events.export(
        filters=[
            EventFilter(field="session_id", operator="is", value=batch.session_id, type="string")
        ]
    )
    return {
        "event_id": created.event_id,
        "batch_event_ids": list(batch.event_ids),
        "batch_session_id": batch.session_id,
        "exported_names": sorted(str(event.event_name) for event in exported.events),
        "exported_total": exported.total_events,
    }


SCENARIOS = {"tracer": tracer_scenario, "client": client_scenario}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]]()))
