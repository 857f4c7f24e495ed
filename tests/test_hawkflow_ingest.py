"""HawkFlow ingest: /v1/start, /v1/end, /v1/metrics, /v1/exception, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import add_key, make_tenant
from hawkflow import hawk_headers, post, process, processes, runs
from roost.storage.store import Store

CREATED = {"status": 201, "message": "created"}


# -- the wire: status codes, bodies, headers, aliases ------------------------------------


def test_start_and_end_answer_exactly_201_with_a_json_body(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for path in ("/v1/start", "/v1/end"):
        response = post(client, tenant, path, {"process": "etl", "meta": "", "uid": ""})
        assert response.status_code == 201
        assert response.json() == CREATED


def test_a_closed_run_has_status_ok_a_duration_and_its_info(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "proc one", "meta": "metax", "uid": ""})
    post(
        client,
        tenant,
        "/v1/end",
        {"process": "proc one", "meta": "metax", "uid": "", "info": "some info"},
    )
    [run] = runs(client, tenant, "proc one", "metax")
    assert run["status"] == "ok"
    assert run["info"] == "some info"
    assert run["duration_ms"] >= 0
    assert run["started_at"] <= run["ended_at"]


def test_the_timed_aliases_and_the_legacy_key_header_work(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    headers = {"hawkflow-api-key": tenant.key, "content-type": "application/json"}
    body = {"process": "ruby job", "meta": "m", "uid": ""}
    assert client.post("/v1/timed/start", json=body, headers=headers).status_code == 201
    assert client.post("/v1/timed/end", json=body, headers=headers).status_code == 201
    assert [run["status"] for run in runs(client, tenant, "ruby job", "m")] == ["ok"]


def test_a_bearer_key_is_accepted_too(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.post("/v1/start", json={"process": "bearer"}, headers=tenant.headers)
    assert response.status_code == 201


def test_a_text_plain_body_from_the_js_client_is_parsed_as_json(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/v1/start",
        content=b'{"process":"p","meta":"m"}\n',
        headers={"x-hawkflow-api-key": tenant.key, "content-type": "text/plain;charset=UTF-8"},
    )
    assert response.status_code == 201
    assert runs(client, tenant, "p", "m")[0]["status"] == "running"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-hawkflow-api-key": "not a key!"},
        {"x-hawkflow-api-key": "rk_" + "x" * 40},
        {"Authorization": "Basic abc"},
    ],
    ids=["missing", "malformed", "unknown", "wrong-scheme"],
)
def test_a_missing_or_unknown_key_is_401_with_hawkflows_body(
    client: TestClient, headers: dict[str, str]
) -> None:
    for path in ("/v1/start", "/v1/end", "/v1/metrics", "/v1/exception"):
        response = client.post(path, json={"process": "p", "items": {"a": 1}}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"status": 401, "error": "unauthorized"}


def test_a_read_only_key_is_refused_with_401(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    reader = add_key(store, tenant, "read")
    response = client.post(
        "/v1/start", json={"process": "p"}, headers={"x-hawkflow-api-key": reader}
    )
    assert response.status_code == 401
    assert processes(client, tenant) == {}


def test_a_revoked_key_stops_working_at_once(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    assert post(client, tenant, "/v1/start", {"process": "p"}).status_code == 201
    client.delete(f"/v1/auth/api-keys/{tenant.key_id}", headers=tenant.headers)
    assert post(client, tenant, "/v1/start", {"process": "p"}).status_code == 401


def test_get_on_an_ingest_path_is_405(client: TestClient) -> None:
    assert client.get("/v1/start").status_code == 405


# -- field rules (API.md §1.2 to 1.5) ------------------------------------------------------


def test_quotes_and_percent_signs_are_stripped_and_names_trimmed(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = post(
        client, tenant, "/v1/start", {"process": ' it\'s "50%" done ', "meta": "a'b", "uid": ""}
    )
    assert response.status_code == 201
    assert ("its 50 done", "ab") in processes(client, tenant)


def test_absent_or_null_meta_and_uid_mean_empty(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    assert post(client, tenant, "/v1/start", {"process": "go"}).status_code == 201
    assert (
        post(client, tenant, "/v1/end", {"process": "go", "meta": None, "uid": None}).status_code
        == 201
    )
    [run] = runs(client, tenant, "go")
    assert run["status"] == "ok"
    assert run["uid"] == ""


def test_unknown_fields_are_ignored_and_info_on_start_too(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    body = {"process": "p", "info": "ignored", "colour": "blue"}
    assert post(client, tenant, "/v1/start", body).status_code == 201
    assert runs(client, tenant, "p")[0]["info"] is None


def test_uids_may_contain_spaces_as_the_js_and_go_clients_allow(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    assert (
        post(client, tenant, "/v1/start", {"process": "p", "uid": "job 1_a-b"}).status_code == 201
    )


def test_info_longer_than_15000_characters_is_capped_not_refused(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "long"})
    response = post(client, tenant, "/v1/end", {"process": "long", "info": "x" * 20_000})
    assert response.status_code == 201
    assert len(runs(client, tenant, "long")[0]["info"]) == 15_000


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("/v1/start", [], "body"),
    ("/v1/start", "process", "body"),
    ("/v1/start", {}, "process"),
    ("/v1/start", {"process": None}, "process"),
    ("/v1/start", {"process": 42}, "process"),
    ("/v1/start", {"process": "''%%\"\""}, "process"),
    ("/v1/start", {"process": "   "}, "process"),
    ("/v1/start", {"process": "p" * 251}, "process"),
    ("/v1/start", {"process": "p\x00q"}, "process"),
    ("/v1/start", {"process": "p", "meta": 5}, "meta"),
    ("/v1/start", {"process": "p", "meta": "m" * 501}, "meta"),
    ("/v1/start", {"process": "p", "uid": "u" * 51}, "uid"),
    ("/v1/start", {"process": "p", "uid": "a/b"}, "uid"),
    ("/v1/start", {"process": "p", "uid": "é"}, "uid"),
    ("/v1/start", {"process": "p", "uid": 7}, "uid"),
    ("/v1/end", {"process": "p", "info": 12}, "info"),
    ("/v1/metrics", {"process": "p"}, "items"),
    ("/v1/metrics", {"process": "p", "items": {}}, "items"),
    ("/v1/metrics", {"process": "p", "items": []}, "items"),
    ("/v1/metrics", {"process": "p", "items": 3}, "items"),
    ("/v1/metrics", {"process": "p", "items": {"a": "1"}}, "items.a"),
    ("/v1/metrics", {"process": "p", "items": {"a": None}}, "items.a"),
    ("/v1/metrics", {"process": "p", "items": {"a": [1]}}, "items.a"),
    ("/v1/metrics", {"process": "p", "items": {"a": {"b": 1}}}, "items.a"),
    ("/v1/metrics", {"process": "p", "items": {"'%": 1}}, "items.'%"),
    ("/v1/metrics", {"process": "p", "items": {"n" * 251: 1}}, "items." + "n" * 251),
    ("/v1/metrics", {"process": "p", "items": {f"m{i}": i for i in range(51)}}, "items"),
    ("/v1/metrics", {"process": "p", "items": {"a": 1}, "df": 2}, "df"),
    ("/v1/metrics", {"process": "p", "items": {"a": 1}, "df": "1"}, "df"),
    ("/v1/metrics", {"process": "p", "items": {"c": 1}, "df": 1}, "items.c"),
    ("/v1/metrics", {"process": "p", "items": {"c": {}}, "df": 1}, "items.c"),
    ("/v1/metrics", {"process": "p", "items": {"c": {"r": "x"}}, "df": 1}, "items.c.r"),
    ("/v1/metrics", {"process": "p", "items": [{"value": 1}]}, "items[0].name"),
    ("/v1/metrics", {"process": "p", "items": [{"name": "a"}]}, "items[0].value"),
    ("/v1/metrics", {"process": "p", "items": [3]}, "items[0]"),
    ("/v1/exception", {"process": "p", "exception": 1}, "exception"),
    ("/v1/exception", {"process": "p", "exception": "x" * 15_001}, "exception"),
    ("/v1/exception", {"meta": "m", "exception": "boom"}, "process"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_BODIES)
def test_a_broken_rule_is_422_naming_the_field_and_writes_nothing(
    client: TestClient, store: Store, path: str, body: Any, field: str
) -> None:
    tenant = make_tenant(store)
    response = post(client, tenant, path, body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["status"] == 422
    assert payload["error"].startswith(f"{field}: ")
    assert processes(client, tenant) == {}


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"not json", b'{"process": NaN}', b"\xff\xfe", b'{"process": "\\ud800"}']
)
def test_a_body_that_is_not_json_is_422(client: TestClient, store: Store, raw: bytes) -> None:
    tenant = make_tenant(store)
    response = client.post("/v1/start", content=raw, headers=hawk_headers(tenant))
    assert response.status_code == 422
    assert response.json()["error"].startswith("body: ")


def test_a_body_over_the_limit_is_413(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    limit = store.settings.max_body_bytes
    body = b'{"process": "p", "exception": "' + b"x" * limit + b'"}'
    response = client.post("/v1/exception", content=body, headers=hawk_headers(tenant))
    assert response.status_code == 413
    assert response.json()["status"] == 413


# -- runs: matching (API.md §1.3) --------------------------------------------------------


def test_an_end_closes_the_most_recent_open_run_with_the_same_uid(
    client: TestClient, store: Store, app: FastAPI
) -> None:
    tenant = make_tenant(store)
    store.settings.run_retry_window_seconds = 0  # two identical starts here are real
    try:
        post(client, tenant, "/v1/start", {"process": "p", "uid": "a"})
        post(client, tenant, "/v1/start", {"process": "p", "uid": "b"})
        post(client, tenant, "/v1/start", {"process": "p", "uid": "a"})
        post(client, tenant, "/v1/end", {"process": "p", "uid": "a"})
    finally:
        store.settings.run_retry_window_seconds = 2.0
    newest_a, b, oldest_a = runs(client, tenant, "p")
    assert (newest_a["uid"], newest_a["status"]) == ("a", "ok")
    assert (b["uid"], b["status"]) == ("b", "running")
    assert (oldest_a["uid"], oldest_a["status"]) == ("a", "running")


def test_an_end_without_uid_closes_a_run_started_with_one(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "js", "meta": "m", "uid": "abc"})
    post(client, tenant, "/v1/end", {"process": "js", "meta": "m"})
    [run] = runs(client, tenant, "js", "m")
    assert run["status"] == "ok"
    assert run["uid"] == "abc"


def test_an_end_with_a_uid_never_closes_a_run_with_another_uid(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "p", "uid": "one"})
    post(client, tenant, "/v1/end", {"process": "p", "uid": "two"})
    statuses = {(run["uid"], run["status"]) for run in runs(client, tenant, "p")}
    assert statuses == {("one", "running"), ("two", "orphan_end")}


def test_end_without_start_is_recorded_as_orphan(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = post(client, tenant, "/v1/end", {"process": "lonely", "info": "why"})
    assert response.status_code == 201
    [run] = runs(client, tenant, "lonely")
    assert run["status"] == "orphan_end"
    assert run["started_at"] is None
    assert run["ended_at"] is not None
    assert run["info"] == "why"


def test_meta_separates_processes(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "p", "meta": "eu"})
    post(client, tenant, "/v1/end", {"process": "p", "meta": "us"})
    assert runs(client, tenant, "p", "eu")[0]["status"] == "running"
    assert runs(client, tenant, "p", "us")[0]["status"] == "orphan_end"


def test_a_retried_start_within_the_window_opens_one_run(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    body = {"process": "retry", "meta": "", "uid": ""}
    post(client, tenant, "/v1/start", body)
    post(client, tenant, "/v1/start", body)  # the client timed out and sent it again
    post(client, tenant, "/v1/end", {**body, "info": ""})
    post(client, tenant, "/v1/end", {**body, "info": ""})  # and again
    assert [run["status"] for run in runs(client, tenant, "retry")] == ["ok"]


def test_a_run_with_an_exception_during_it_ends_failed(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "etl"})
    post(client, tenant, "/v1/exception", {"process": "etl", "exception": "ValueError: bad row"})
    post(client, tenant, "/v1/end", {"process": "etl"})
    [run] = runs(client, tenant, "etl")
    assert run["status"] == "failed"
    detail = client.get(f"/api/v1/runs/{run['id']}", headers=tenant.headers).json()
    assert [item["text"] for item in detail["exceptions"]] == ["ValueError: bad row"]
    assert detail["exceptions"][0]["run_id"] == run["id"]


def test_every_closed_run_writes_its_duration_to_a_value_series(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    for _ in range(3):
        post(client, tenant, "/v1/start", {"process": "timed"})
        post(client, tenant, "/v1/end", {"process": "timed"})
    found = process(client, tenant, "timed")
    data = client.get(
        f"/v1/stats/{found['duration_series_id']}/data?resolution=1h", headers=tenant.headers
    ).json()
    assert sum(bucket["count"] for bucket in data["points"]) == 3
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    duration = next(stat for stat in stats if stat["id"] == found["duration_series_id"])
    assert duration["type"] == "value"
    assert duration["labels"] == {"process": "timed", "meta": "", "derived": "runs"}


async def _hundred_concurrent_runs(app: Any, key: str) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    headers = {"x-hawkflow-api-key": key}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

        async def one(index: int) -> list[int]:
            body = {"process": "fanout", "meta": "m", "uid": f"job-{index}"}
            first = await client.post("/v1/start", json=body, headers=headers)
            # Runs end in a different order from how they started.
            await asyncio.sleep((index % 10) * 0.01)
            second = await client.post("/v1/end", json=body, headers=headers)
            return [first.status_code, second.status_code]

        results = await asyncio.gather(*(one(index) for index in range(100)))
    return [code for pair in results for code in pair]


def test_100_concurrent_runs_with_distinct_uids_give_100_correct_durations(
    client: TestClient, store: Store, app: Any
) -> None:
    tenant = make_tenant(store)
    codes = asyncio.run(_hundred_concurrent_runs(client.app, tenant.key))
    assert codes == [201] * 200
    found = runs(client, tenant, "fanout", "m")
    assert len(found) == 100
    assert {run["uid"] for run in found} == {f"job-{index}" for index in range(100)}
    for run in found:
        assert run["status"] == "ok"
        assert run["duration_ms"] >= 0
        assert run["duration_ms"] == _ms(run["ended_at"]) - _ms(run["started_at"])


def _ms(iso: str) -> int:
    from roost.domain.times import parse_time

    return parse_time(iso)


def test_runs_open_too_long_become_abandoned(client: TestClient, store: Store) -> None:
    from roost.app import run_abandon_pass

    tenant = make_tenant(store)
    post(client, tenant, "/v1/start", {"process": "stuck"})
    saved = store.settings.run_abandon_after_hours
    store.settings.run_abandon_after_hours = 1e-9  # everything open counts as stale
    try:
        assert asyncio.run(run_abandon_pass(store)) >= 1
    finally:
        store.settings.run_abandon_after_hours = saved
    [run] = runs(client, tenant, "stuck")
    assert run["status"] == "abandoned"
    post(client, tenant, "/v1/end", {"process": "stuck"})
    assert [run["status"] for run in runs(client, tenant, "stuck")] == ["orphan_end", "abandoned"]


# -- metrics (API.md §1.4) ---------------------------------------------------------------


def _metric_series(client: TestClient, tenant: Any, name: str, meta: str = "") -> dict[str, Any]:
    process_id = process(client, tenant, name, meta)["id"]
    response = client.get(f"/api/v1/processes/{process_id}/series", headers=tenant.headers)
    return {item["name"]: item for item in response.json()["items"] if item["role"] == "metric"}


def test_each_metric_item_becomes_a_point_of_a_labelled_value_series(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    body = {"process": "p3", "meta": "m", "items": {"acc": 0.9, "n": 3, "badkey": 1}, "df": 0}
    assert post(client, tenant, "/v1/metrics", body).status_code == 201
    series = _metric_series(client, tenant, "p3", "m")
    assert set(series) == {"acc", "n", "badkey"}
    assert series["acc"]["last_value"] == 0.9
    assert series["acc"]["labels"] == {"process": "p3", "meta": "m"}
    data = client.get(
        f"/v1/stats/{series['n']['id']}/data?resolution=1m", headers=tenant.headers
    ).json()
    assert [bucket["value"] for bucket in data["points"] if bucket["count"]] == [3]


def test_dataframe_items_are_named_outer_dot_inner(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    items = {"col1": {"metric1": 1, "metric2": 2}, "col2": {"metric1": 3, "metric2": 4}}
    assert (
        post(client, tenant, "/v1/metrics", {"process": "p4", "items": items, "df": 1}).status_code
        == 201
    )
    series = _metric_series(client, tenant, "p4")
    assert {name: item["last_value"] for name, item in series.items()} == {
        "col1.metric1": 1,
        "col1.metric2": 2,
        "col2.metric1": 3,
        "col2.metric2": 4,
    }


def test_legacy_list_items_and_booleans_are_accepted(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    items = [{"name": "rows", "value": 10}, {"name": "ok", "value": True}]
    # The list shape is unambiguous, so df does not matter for it.
    for df in (0, True):
        body = {"process": "old", "items": items, "df": df}
        assert post(client, tenant, "/v1/metrics", body).status_code == 201
    assert (
        post(
            client, tenant, "/v1/metrics", {"process": "old", "items": {"flag": False}}
        ).status_code
        == 201
    )
    values = {
        name: item["last_value"] for name, item in _metric_series(client, tenant, "old").items()
    }
    assert values == {"rows": 10, "ok": 1, "flag": 0}


def test_fifty_items_are_accepted(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    items = {f"m{index}": index for index in range(50)}
    assert (
        post(client, tenant, "/v1/metrics", {"process": "wide", "items": items}).status_code == 201
    )
    assert len(_metric_series(client, tenant, "wide")) == 50


def test_a_stat_and_a_metric_with_the_same_name_stay_apart(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    client.post(
        "/v1/ingest", json={"stat": "rows", "value": 5, "type": "counter"}, headers=tenant.headers
    )
    post(client, tenant, "/v1/metrics", {"process": "p", "items": {"rows": 7}})
    stats = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    rows = sorted((stat["type"], stat["last_value"]) for stat in stats if stat["name"] == "rows")
    assert rows == [("counter", 5), ("value", 7)]


# -- exceptions (API.md §1.5) ------------------------------------------------------------


def test_an_exception_is_stored_and_grouped(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    text = 'Traceback (most recent call last):\n  File "job.py", line 3, in run\nKeyError: 7\n'
    for _ in range(2):
        response = post(client, tenant, "/v1/exception", {"process": "p5", "exception": text})
        assert response.status_code == 201
    [group] = client.get("/api/v1/exceptions", headers=tenant.headers).json()["items"]
    assert (group["type"], group["message"], group["count"]) == ("KeyError", "7", 2)
    assert group["process"] == "p5"
    assert group["status"] == "open"


def test_an_exception_without_text_is_accepted_as_the_go_client_sends_it(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    assert post(client, tenant, "/v1/exception", {"process": "go"}).status_code == 201
    [group] = client.get("/api/v1/exceptions", headers=tenant.headers).json()["items"]
    assert group["count"] == 1
