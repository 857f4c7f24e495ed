"""The real HoneyHive SDK (honeyhive 1.7) against Roost on 127.0.0.1, on both databases.

The SDK runs in a subprocess (``honeyhive_client.py``): it installs a process-wide tracer
provider, which would otherwise trace the server under test too. Its only server is the one
these tests start on 127.0.0.1; every ``HH_*``/``OTEL_*`` variable of the environment is
dropped so nothing points it elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from liveserver import live_server
from roost.storage.store import Store

CLIENT_PROGRAM = Path(__file__).with_name("honeyhive_client.py")
SDK_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def base_url(app: FastAPI, client: TestClient) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def run_sdk(scenario: str, base_url: str, tenant: Tenant, protocol: str = "http/json") -> Any:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("HH_", "HONEYHIVE_", "OTEL_"))
    }
    env.update(HH_API_URL=base_url, HH_API_KEY=tenant.key, HH_OTLP_PROTOCOL=protocol)
    done = subprocess.run(
        [sys.executable, str(CLIENT_PROGRAM), scenario],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SDK_TIMEOUT_S,
    )
    assert done.returncode == 0, f"the SDK program failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_named(node: dict[str, Any], suffix: str) -> dict[str, Any]:
    found = [child for child in node["children"] if child["event_name"].endswith(suffix)]
    assert len(found) == 1, [child["event_name"] for child in node["children"]]
    return found[0]


@pytest.mark.parametrize("protocol", ["http/json", "http/protobuf"])
def test_a_traced_program_reads_back_as_a_session_tree(
    client: TestClient, store: Store, base_url: str, protocol: str
) -> None:
    tenant = make_tenant(store)
    result = run_sdk("tracer", base_url, tenant, protocol)
    assert result["flushed"] is True
    session_id = result["session_id"]

    response = client.get(f"/session/{session_id}", headers=tenant.headers)
    assert response.status_code == 200
    tree = response.json()
    assert tree["event_id"] == session_id
    assert tree["event_type"] == "session"
    assert tree["event_name"] == "support-bot"
    assert tree["source"] == "sdk-test"
    assert tree["inputs"] == {"question": "where is my order?"}

    answer = child_named(tree, ".answer")
    assert answer["event_type"] == "chain"
    assert answer["parent_id"] == session_id
    assert answer["inputs"] == {"question": "where is my order?"}
    assert answer["outputs"] == {"result": "about where is my order?"}
    retrieve, generate = answer["children"]
    assert retrieve["event_name"].endswith(".retrieve")
    assert retrieve["event_type"] == "tool"
    assert retrieve["inputs"] == {"query": "where is my order?", "limit": 2}
    assert retrieve["outputs"] == {"result": ["doc-0", "doc-1"]}
    assert generate["event_name"] == "llm-call"
    assert generate["event_type"] == "model"
    assert generate["inputs"] == {
        "prompt": "where is my order?",
        "options": {"temperature": 0.1, "documents": ["doc-0", "doc-1"]},
    }
    assert generate["outputs"] == {
        "result": {"role": "assistant", "content": "about where is my order?"}
    }
    assert generate["config"] == {"model": "gpt-test"}
    assert generate["metadata"]["prompt_tokens"] == 30
    assert answer["children_ids"] == [retrieve["event_id"], generate["event_id"]]

    failed = child_named(tree, ".fail")
    assert failed["error"] == "ValueError: the tool broke" or "the tool broke" in failed["error"]
    assert failed["metadata"]["exceptions"][0]["type"] == "ValueError"

    # enrich_session
    assert tree["metadata"]["user"] == "u-1"
    assert tree["feedback"] == {"rating": 5}
    assert tree["metrics"] == {"resolved": 1}
    assert tree["outputs"] == {"final": "shipped"}
    assert tree["user_properties"] == {"tier": "pro"}
    # Totals, kept per session as the events arrive.
    assert tree["metadata"]["num_model_events"] == 1
    assert tree["metadata"]["num_events"] >= 4
    assert tree["metadata"]["num_errors"] >= 1
    assert tree["metadata"]["total_tokens"] == 42
    assert tree["metadata"]["cost"] == pytest.approx(0.0021)

    # The same session through Roost's own read API.
    listed = client.get(
        "/api/v1/traces/sessions", params={"user_property": "tier:pro"}, headers=tenant.headers
    ).json()["sessions"]
    assert [row["session_id"] for row in listed] == [session_id]
    assert listed[0]["name"] == "support-bot"
    assert listed[0]["total_tokens"] == 42
    native = client.get(f"/api/v1/traces/sessions/{session_id}", headers=tenant.headers).json()
    native_answer = child_named(native["tree"], ".answer")
    assert native_answer["inputs"] == answer["inputs"]
    assert [child["event_id"] for child in native_answer["children"]] == answer["children_ids"]
    models = client.get(
        "/api/v1/traces/events",
        params={"type": "model", "session_id": session_id},
        headers=tenant.headers,
    ).json()["events"]
    assert [event["event_name"] for event in models] == ["llm-call"]


def test_the_sdk_rest_client_creates_updates_and_exports_events(
    client: TestClient, store: Store, base_url: str
) -> None:
    tenant = make_tenant(store)
    result = run_sdk("client", base_url, tenant)

    event = client.get(f"/v1/events/{result['event_id']}", headers=tenant.headers).json()["event"]
    assert event["event_name"] == "manual"
    assert event["inputs"] == {"q": 1}
    assert event["outputs"] == {"n": 42}
    assert event["start_time"] == 1714978764301.0
    assert event["duration"] == 5.5
    assert event["end_time"] == 1714978764306.5

    # A session is an event of its own session, so the export by session id holds it too.
    assert result["exported_names"] == ["batch-session", "c", "m"]
    assert result["exported_total"] == 3
    batch = client.get(f"/session/{result['batch_session_id']}", headers=tenant.headers).json()
    assert batch["event_name"] == "batch-session"
    assert sorted(child["event_id"] for child in batch["children"]) == sorted(
        result["batch_event_ids"]
    )
