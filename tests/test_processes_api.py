"""Roost's read API for processes, runs and exceptions (/api/v1), on both databases."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from hawkflow import post, process, runs
from roost.storage.store import Store

TRACEBACK = """Traceback (most recent call last):
  File "/app/job.py", line {line}, in main
    load()
  File "/app/load.py", line 9, in load
    raise ValueError("row {row} is bad")
ValueError: row {row} is bad
"""


def run_once(client: TestClient, tenant: Tenant, name: str, meta: str = "", uid: str = "") -> None:
    body = {"process": name, "meta": meta, "uid": uid}
    assert post(client, tenant, "/v1/start", body).status_code == 201
    assert post(client, tenant, "/v1/end", body).status_code == 201


def get(client: TestClient, tenant: Tenant, path: str) -> dict:
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_process_lists_its_last_run_counts_and_duration_percentiles(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for _ in range(4):
        run_once(client, tenant, "etl", "eu")
    post(client, tenant, "/v1/start", {"process": "etl", "meta": "eu", "uid": "open"})
    found = process(client, tenant, "etl", "eu")
    assert found["run_count"] == 5
    assert found["open_runs"] == 1
    assert found["last_run"]["status"] == "running"
    assert found["last_run"]["uid"] == "open"
    assert found["duration_p50_ms"] is not None
    assert found["duration_p95_ms"] >= found["duration_p50_ms"] >= 0
    one = get(client, tenant, f"/api/v1/processes/{found['id']}")
    assert one == found


def test_a_process_with_no_closed_run_has_no_percentiles(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/metrics", {"process": "metrics only", "items": {"a": 1}})
    found = process(client, tenant, "metrics only")
    assert (found["run_count"], found["last_run"], found["duration_p50_ms"]) == (0, None, None)


def test_processes_page_newest_first_and_filter_by_name(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for name in ("alpha", "beta", "gamma", "alphabet"):
        run_once(client, tenant, name)
    first = get(client, tenant, "/api/v1/processes?limit=3")
    assert [item["name"] for item in first["items"]] == ["alphabet", "gamma", "beta"]
    rest = get(client, tenant, f"/api/v1/processes?limit=3&before={first['next_before']}")
    assert [item["name"] for item in rest["items"]] == ["alpha"]
    assert rest["next_before"] is None
    named = get(client, tenant, "/api/v1/processes?name=ALPHA")
    assert sorted(item["name"] for item in named["items"]) == ["alpha", "alphabet"]


def test_runs_filter_by_status_and_time_and_page(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for index in range(5):
        run_once(client, tenant, "job", uid=f"u{index}")
    post(client, tenant, "/v1/start", {"process": "job", "uid": "still"})
    post(client, tenant, "/v1/end", {"process": "job", "uid": "nobody"})
    assert len(runs(client, tenant, "job")) == 7
    assert [run["uid"] for run in runs(client, tenant, "job", query="&status=running")] == ["still"]
    statuses = {run["status"] for run in runs(client, tenant, "job", query="&status=ok,orphan_end")}
    assert statuses == {"ok", "orphan_end"}
    assert runs(client, tenant, "job", query="&to=2000-01-01T00:00:00Z") == []
    assert len(runs(client, tenant, "job", query="&from=2000-01-01T00:00:00Z")) == 7
    process_id = process(client, tenant, "job")["id"]
    pages, before = [], ""
    for _ in range(10):  # bounded: 7 runs in pages of 3
        body = get(client, tenant, f"/api/v1/processes/{process_id}/runs?limit=3{before}")
        pages.append([run["id"] for run in body["items"]])
        if body["next_before"] is None:
            break
        before = f"&before={body['next_before']}"
    assert [len(page) for page in pages] == [3, 3, 1]
    ids = [run_id for page in pages for run_id in page]
    assert ids == sorted(ids, reverse=True)


def test_a_run_shows_the_metrics_and_exceptions_recorded_during_it(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/metrics", {"process": "train", "items": {"loss": 9}})
    time.sleep(0.005)  # so "before the run" is a different millisecond
    post(client, tenant, "/v1/start", {"process": "train"})
    post(client, tenant, "/v1/metrics", {"process": "train", "items": {"loss": 0.5, "acc": 0.8}})
    post(
        client,
        tenant,
        "/v1/exception",
        {"process": "train", "exception": TRACEBACK.format(line=3, row=1)},
    )
    post(client, tenant, "/v1/end", {"process": "train"})
    time.sleep(0.005)
    post(client, tenant, "/v1/metrics", {"process": "train", "items": {"loss": 7}})
    [run] = runs(client, tenant, "train")
    detail = get(client, tenant, f"/api/v1/runs/{run['id']}")
    assert detail["status"] == "failed"
    assert detail["process"]["name"] == "train"
    assert sorted((m["name"], m["value"]) for m in detail["metrics"]) == [
        ("acc", 0.8),
        ("loss", 0.5),
    ]
    assert [item["run_id"] for item in detail["exceptions"]] == [run["id"]]


def test_a_process_lists_its_metric_duration_and_exception_series(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/metrics", {"process": "p", "meta": "m", "items": {"b": 1, "a": 2}})
    found = process(client, tenant, "p", "m")
    series = get(client, tenant, f"/api/v1/processes/{found['id']}/series")["items"]
    assert [(item["name"], item["role"]) for item in series] == [
        ("a", "metric"),
        ("b", "metric"),
        ("run duration (ms)", "run_duration"),
        ("exceptions", "exceptions"),
    ]
    for item in series:
        assert client.get(item["data_url"], headers=tenant.headers).status_code == 200


def test_the_same_bug_at_other_lines_is_one_group_and_another_bug_is_another(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for line, row in ((3, 1), (5, 2), (8, 3)):
        post(
            client,
            tenant,
            "/v1/exception",
            {"process": "etl", "exception": TRACEBACK.format(line=line, row=row)},
        )
    post(client, tenant, "/v1/exception", {"process": "etl", "exception": "KeyError: 'x'"})
    groups = get(client, tenant, "/api/v1/exceptions")["items"]
    counts = sorted((group["type"], group["count"]) for group in groups)
    assert counts == [("KeyError", 1), ("ValueError", 3)]
    value_error = next(group for group in groups if group["type"] == "ValueError")
    assert value_error["message"] == "row 1 is bad"  # the first one seen names the group
    occurrences = get(client, tenant, f"/api/v1/exceptions/{value_error['id']}/occurrences?limit=2")
    assert len(occurrences["items"]) == 2
    assert "row 3 is bad" in occurrences["items"][0]["text"]
    latest = get(client, tenant, f"/api/v1/exceptions/{value_error['id']}")["latest"]
    assert "row 3 is bad" in latest["text"]


def test_a_resolved_group_reopens_and_an_ignored_one_stays_ignored(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/exception", {"process": "a", "exception": "KeyError: 1"})
    post(client, tenant, "/v1/exception", {"process": "b", "exception": "KeyError: 1"})
    groups = {g["process"]: g for g in get(client, tenant, "/api/v1/exceptions")["items"]}
    for name, status in (("a", "resolved"), ("b", "ignored")):
        response = client.patch(
            f"/api/v1/exceptions/{groups[name]['id']}",
            json={"status": status},
            headers=tenant.headers,
        )
        assert response.status_code == 200
        assert response.json()["status"] == status
    resolved = get(client, tenant, "/api/v1/exceptions?status=resolved")["items"]
    assert [g["process"] for g in resolved] == ["a"]
    post(client, tenant, "/v1/exception", {"process": "a", "exception": "KeyError: 2"})
    post(client, tenant, "/v1/exception", {"process": "b", "exception": "KeyError: 2"})
    after = {g["process"]: g for g in get(client, tenant, "/api/v1/exceptions")["items"]}
    assert (after["a"]["status"], after["a"]["count"]) == ("open", 2)
    assert (after["b"]["status"], after["b"]["count"]) == ("ignored", 2)
    assert [g["process"] for g in get(client, tenant, "/api/v1/exceptions?process=b")["items"]] == [
        "b"
    ]


def test_changing_a_group_needs_write_scope_and_a_known_status(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/exception", {"process": "a", "exception": "boom"})
    [group] = get(client, tenant, "/api/v1/exceptions")["items"]
    path = f"/api/v1/exceptions/{group['id']}"
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    assert client.patch(path, json={"status": "resolved"}, headers=reader).status_code == 403
    bad = client.patch(path, json={"status": "fixed"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["field"] == "status"
    assert client.patch(path, content=b"{", headers=tenant.headers).status_code == 422


def test_another_projects_key_sees_nothing_on_any_read_endpoint(
    client: TestClient, store: Store
) -> None:
    owner, stranger = make_tenant(store), make_tenant(store)
    run_once(client, owner, "secret")
    post(client, owner, "/v1/exception", {"process": "secret", "exception": "boom"})
    found = process(client, owner, "secret")
    [run] = runs(client, owner, "secret")
    [group] = get(client, owner, "/api/v1/exceptions")["items"]
    assert get(client, stranger, "/api/v1/processes")["items"] == []
    assert get(client, stranger, "/api/v1/exceptions")["items"] == []
    for path in (
        f"/api/v1/processes/{found['id']}",
        f"/api/v1/processes/{found['id']}/runs",
        f"/api/v1/processes/{found['id']}/series",
        f"/api/v1/runs/{run['id']}",
        f"/api/v1/exceptions/{group['id']}",
        f"/api/v1/exceptions/{group['id']}/occurrences",
        f"/v1/stats/{found['duration_series_id']}/data",
    ):
        response = client.get(path, headers=stranger.headers)
        assert response.status_code == 404, path
    patch = client.patch(
        f"/api/v1/exceptions/{group['id']}", json={"status": "ignored"}, headers=stranger.headers
    )
    assert patch.status_code == 404
    assert get(client, owner, f"/api/v1/exceptions/{group['id']}")["status"] == "open"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/processes",
        "/api/v1/processes/1",
        "/api/v1/processes/1/runs",
        "/api/v1/runs/1",
        "/api/v1/exceptions",
        "/api/v1/exceptions/1/occurrences",
    ],
)
def test_every_read_endpoint_needs_a_key(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert "error" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/processes?limit=0",
        "/api/v1/processes?limit=1001",
        "/api/v1/processes?before=-1",
        "/api/v1/processes/0",
        "/api/v1/processes/abc",
        "/api/v1/processes/99999999999999999999",
        "/api/v1/processes/1/runs?status=done",
        "/api/v1/processes/1/runs?from=yesterday",
        "/api/v1/exceptions?status=closed",
    ],
)
def test_bad_query_parameters_are_4xx_naming_the_field(
    client: TestClient, store: Store, query: str
) -> None:
    tenant = make_tenant(store)
    response = client.get(query, headers=tenant.headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]


def test_unknown_ids_are_404(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for path in (
        "/api/v1/processes/123456789",
        "/api/v1/runs/123456789",
        "/api/v1/exceptions/123456789",
    ):
        assert client.get(path, headers=tenant.headers).status_code == 404


def test_the_read_api_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/processes",
        "/api/v1/processes/{process_id}/runs",
        "/api/v1/processes/{process_id}/series",
        "/api/v1/runs/{run_id}",
        "/api/v1/exceptions",
        "/api/v1/exceptions/{group_id}/occurrences",
    ):
        assert path in paths
