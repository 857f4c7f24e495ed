"""Telemetry for the web tests, sent through the real ingest APIs of a running Roost.

``send_telemetry`` gives Acme two HawkFlow processes (runs ok, failed, running, an orphan
end, metrics, an exception) and two HoneyHive sessions (one tagged with a run's uid, with a
model event, a failing tool and a large payload); Beta gets a process, an exception and a
session of its own, which Acme's people must never see.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from webapp import Project

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "etl/load.py", line 7, in load\n'
    "    row = customers[key]\n"
    "KeyError: 'customer_id'"
)


@dataclass(frozen=True)
class Telemetry:
    etl_id: int  # Acme's "nightly-etl" process
    busy_id: int  # Acme's process with many runs
    failed_run_id: int  # the nightly-etl run with uid run-2
    group_id: int  # Acme's KeyError group
    session_id: str  # Acme's session tagged run_uid=run-2
    other_session_id: str  # Acme's second session
    beta_process_id: int
    beta_run_id: int
    beta_group_id: int
    beta_session_id: str
    workflow_id: int  # Acme's "ETL flow": nightly-etl → answer → draft reply
    beta_workflow_id: int


def _hawk(http: httpx.Client, key: str, path: str, body: dict[str, Any]) -> None:
    sent = http.post(path, json=body, headers={"x-hawkflow-api-key": key})
    assert sent.status_code == 201, sent.text


def _honey(http: httpx.Client, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    sent = http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert sent.status_code == 200, sent.text
    answer: dict[str, Any] = sent.json()
    return answer


def _api(http: httpx.Client, key: str, path: str) -> Any:
    got = http.get(path, headers={"Authorization": f"Bearer {key}"})
    assert got.status_code == 200, got.text
    return got.json()


def _process_id(http: httpx.Client, key: str, name: str) -> int:
    items = _api(http, key, "/api/v1/processes?limit=100")["items"]
    return int(next(item["id"] for item in items if item["name"] == name))


def _session(http: httpx.Client, key: str, name: str, properties: dict[str, Any]) -> str:
    started = _honey(
        http,
        key,
        "/session/start",
        {"session": {"session_name": name, "source": "tests", "user_properties": properties}},
    )
    return str(started["session_id"])


def _events(http: httpx.Client, key: str, session_id: str) -> None:
    chain = _honey(
        http,
        key,
        "/events",
        {
            "event": {
                "event_type": "chain",
                "event_name": "answer",
                "session_id": session_id,
                "inputs": {"question": "Where is my order?"},
                "outputs": {"answer": "On its way."},
                "duration": 900,
            }
        },
    )["event_id"]
    _honey(
        http,
        key,
        "/events",
        {
            "event": {
                "event_type": "model",
                "event_name": "draft reply",
                "session_id": session_id,
                "parent_id": chain,
                "inputs": {"messages": [{"role": "user", "content": "Where is my order?"}]},
                "outputs": {"text": "On its way."},
                "config": {"model": "gpt-test"},
                "metadata": {"prompt_tokens": 30, "completion_tokens": 12, "cost": 0.002},
                "duration": 600,
            }
        },
    )
    _honey(
        http,
        key,
        "/events",
        {
            "event": {
                "event_type": "tool",
                "event_name": "order lookup",
                "session_id": session_id,
                "parent_id": chain,
                "inputs": {"order": 42, "notes": "x" * 1200},
                "outputs": {"rows": list(range(80))},
                "error": "lookup timed out",
                "duration": 200,
            }
        },
    )


def _workflow(http: httpx.Client, key: str, name: str, chain: list[str]) -> int:
    """A workflow of the agents named in ``chain``, each linked to the next."""
    headers = {"Authorization": f"Bearer {key}"}
    listed = http.get("/api/v1/agents", headers=headers)
    assert listed.status_code == 200, listed.text
    ids = {agent["name"]: int(agent["id"]) for agent in listed.json()}
    agents = [ids[item] for item in chain]
    made = http.post(
        "/api/v1/workflows",
        json={
            "name": name,
            "description": "made by the web tests",
            "agent_ids": agents,
            "links": [{"source": a, "receiver": b} for a, b in itertools.pairwise(agents)],
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def send_telemetry(base_url: str, acme: Project, beta: Project) -> Telemetry:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        a, b = acme.key, beta.key
        etl = {"process": "nightly-etl", "meta": "eu-west"}
        _hawk(http, a, "/v1/start", {**etl, "uid": "run-1"})
        _hawk(http, a, "/v1/end", {**etl, "uid": "run-1", "info": "3 files"})
        _hawk(http, a, "/v1/start", {**etl, "uid": "run-2"})
        _hawk(http, a, "/v1/metrics", {**etl, "items": {"rows_loaded": 15664}})
        _hawk(http, a, "/v1/exception", {**etl, "exception": TRACEBACK})
        _hawk(http, a, "/v1/end", {**etl, "uid": "run-2", "info": "failed half way"})
        _hawk(http, a, "/v1/start", {**etl, "uid": "run-3"})
        _hawk(http, a, "/v1/end", {"process": "backup", "uid": "lost-start"})
        for index in range(60):  # more than a page of runs
            _hawk(http, a, "/v1/start", {"process": "busy", "uid": f"b{index}"})
            _hawk(http, a, "/v1/end", {"process": "busy", "uid": f"b{index}"})
        _hawk(http, b, "/v1/start", {"process": "beta-secret-job", "uid": "s1"})
        _hawk(
            http,
            b,
            "/v1/exception",
            {"process": "beta-secret-job", "exception": "ValueError: beta only"},
        )
        _hawk(http, b, "/v1/end", {"process": "beta-secret-job", "uid": "s1"})

        tagged = _session(http, a, "support-chat", {"user_id": "ada", "run_uid": "run-2"})
        _events(http, a, tagged)
        other = _session(http, a, "quiet-chat", {"user_id": "bob"})
        beta_session = _session(http, b, "beta-session", {"user_id": "eve"})

        etl_id = _process_id(http, a, "nightly-etl")
        runs = _api(http, a, f"/api/v1/processes/{etl_id}/runs")["items"]
        beta_process = _process_id(http, b, "beta-secret-job")
        beta_runs = _api(http, b, f"/api/v1/processes/{beta_process}/runs")["items"]
        alert = http.post(
            "/api/v1/alerts",
            json={
                "name": "etl failed",
                "kind": "run",
                "process": "nightly-etl",
                "condition": "failed",
                "channel_ids": [],
            },
            headers={"Authorization": f"Bearer {a}"},
        )
        assert alert.status_code == 201, alert.text
        flow = _workflow(http, a, "ETL flow", ["nightly-etl [eu-west]", "answer", "draft reply"])
        beta_flow = _workflow(http, b, "Beta flow", ["beta-secret-job"])
        return Telemetry(
            etl_id=etl_id,
            busy_id=_process_id(http, a, "busy"),
            failed_run_id=int(next(run["id"] for run in runs if run["uid"] == "run-2")),
            group_id=int(_api(http, a, "/api/v1/exceptions")["items"][0]["id"]),
            session_id=tagged,
            other_session_id=other,
            beta_process_id=beta_process,
            beta_run_id=int(beta_runs[0]["id"]),
            beta_group_id=int(_api(http, b, "/api/v1/exceptions")["items"][0]["id"]),
            beta_session_id=beta_session,
            workflow_id=flow,
            beta_workflow_id=beta_flow,
        )
