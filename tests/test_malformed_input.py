"""Bad input never reaches a 500: every StatFlow route answers 4xx with ``{"error": ...}``.

Each case runs in a fresh project, so "wrote nothing" is checked as "the project is still
empty" after the refused request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from conftest import Tenant, make_tenant
from roost.app import create_app
from roost.domain.times import now_ms
from roost.settings import Settings
from roost.storage.store import Store

MISSING = object()  # drop the field from the body instead of setting it
SMALL_BODY_LIMIT = 2048

# -- expectations ------------------------------------------------------------------------


def assert_refused(response: Response, status: int | None = None) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("error"), str) and body["error"], body
    return body


def stat_names(client: TestClient, tenant: Tenant) -> list[str]:
    response = client.get("/v1/stats", headers=tenant.headers)
    assert response.status_code == 200
    return [stat["name"] for stat in response.json()["stats"]]


def assert_ingest_refused_and_nothing_written(
    client: TestClient, store: Store, path: str, body: bytes, status: int | None = None
) -> None:
    """POST the body to an ingest route in a fresh project: refused, and no stat was made."""
    tenant = make_tenant(store)
    assert_refused(client.post(path, content=body, headers=tenant.headers), status)
    assert stat_names(client, tenant) == []


def with_field(base: dict[str, Any], name: str, value: object) -> bytes:
    body = dict(base)
    if value is MISSING:
        body.pop(name, None)
    else:
        body[name] = value
    return encode(body)


def encode(document: object) -> bytes:
    # The stdlib encoder, because orjson refuses the integers beyond 64 bits sent here.
    return json.dumps(document).encode()


# -- bodies that are wrong whatever the route --------------------------------------------

NOT_AN_OBJECT = [
    pytest.param(b"", id="empty"),
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"{", id="truncated"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b"[]", id="empty-array"),
    pytest.param(b'[{"stat": "a", "value": 1}]', id="array-of-objects"),
    pytest.param(b'"stat"', id="string"),
    pytest.param(b"42", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="bool"),
    pytest.param(b"[" * 2000 + b"]" * 2000, id="deeply-nested"),
    pytest.param(b'{"stat": "a", "value": NaN}', id="nan-literal"),
    pytest.param(b'{"stat": "a", "value": Infinity}', id="infinity-literal"),
    pytest.param(b'{"stat": "a", "value": 1e400}', id="float-overflow"),
    pytest.param(b'{"stat": "\\ud800", "value": 1}', id="lone-surrogate"),
]

# -- field values that are wrong ---------------------------------------------------------

FAR_FUTURE_SECONDS = now_ms() // 1000 + 3 * 24 * 3600

BAD_STAT = [
    MISSING,
    None,
    1,
    1.5,
    True,
    [],
    {},
    "",
    "   ",
    "a" * 256,
    "s" * 1_000_000,
    "a~b",
    "a\nb",
    "a\x00b",
    "\x7f",
]
BAD_NUMBER = [
    None,
    "abc",
    "",
    "1,5",
    [],
    {},
    [1],
    True,
    False,
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e400",
    "1" * 65,
    2**63,
    2**64 - 1,
    -(2**63),
]
BAD_TYPE = [1, 0, True, [], {}, "", "gauge", "Counter", "counter "]
BAD_TIME = [
    [],
    {},
    True,
    False,
    -1,
    -0.5,
    "-1",
    1e20,
    2**64 - 1,
    "NaN",
    "Infinity",
    "inf",
    "",
    "   ",
    "yesterday",
    "2024-13-01",
    "2024-02-30T00:00:00Z",
    "2024-01-01T25:00:00",
    "2024-01-01T00:00:00+25:00",
    "1" * 65,
    "0001-01-01T00:00:00Z",
    FAR_FUTURE_SECONDS,
]


def field_cases(base: dict[str, Any], table: dict[str, list[object]]) -> list[Any]:
    cases = []
    for name, values in table.items():
        for index, value in enumerate(values):
            label = "missing" if value is MISSING else repr(value)[:24]
            cases.append(pytest.param(with_field(base, name, value), id=f"{name}-{index}-{label}"))
    return cases


INGEST_BASE = {"stat": "ok.stat", "value": 1, "type": "counter"}
INGEST_FIELDS = field_cases(
    INGEST_BASE,
    {
        "stat": BAD_STAT,
        "value": [MISSING, *BAD_NUMBER],
        "type": BAD_TYPE,
        "t": BAD_TIME,
    },
)
STAT_BASE = {"stat": "ok.stat", "count": 1}
STAT_FIELDS = [
    *field_cases(STAT_BASE, {"stat": BAD_STAT, "count": BAD_NUMBER[1:], "t": BAD_TIME}),
    *field_cases({"stat": "ok.stat", "value": 1.5}, {"value": BAD_NUMBER[1:]}),
    pytest.param(encode({"stat": "ok.stat"}), id="neither-count-nor-value"),
    pytest.param(encode({"stat": "ok.stat", "count": None}), id="count-null"),
]


# -- ingest ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/ingest", "/v1/stat", "/v1/ingest/batch"])
@pytest.mark.parametrize("body", NOT_AN_OBJECT)
def test_ingest_refuses_a_body_that_is_not_a_json_object(
    client: TestClient, store: Store, path: str, body: bytes
) -> None:
    assert_ingest_refused_and_nothing_written(client, store, path, body)


@pytest.mark.parametrize("body", INGEST_FIELDS)
def test_ingest_refuses_each_bad_field_and_writes_nothing(
    client: TestClient, store: Store, body: bytes
) -> None:
    assert_ingest_refused_and_nothing_written(client, store, "/v1/ingest", body, 422)


@pytest.mark.parametrize("body", STAT_FIELDS)
def test_stat_ingest_refuses_each_bad_field_and_writes_nothing(
    client: TestClient, store: Store, body: bytes
) -> None:
    assert_ingest_refused_and_nothing_written(client, store, "/v1/stat", body, 422)


def test_ingest_names_the_bad_field(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    body = {"stat": "ok", "value": "NaN"}
    refused = assert_refused(client.post("/v1/ingest", json=body, headers=tenant.headers), 422)
    assert refused["field"] == "value"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-items"),
        pytest.param({"items": None}, id="items-null"),
        pytest.param({"items": {}}, id="items-object"),
        pytest.param({"items": "a"}, id="items-string"),
        pytest.param({"items": 3}, id="items-number"),
    ],
)
def test_batch_ingest_refuses_items_that_are_not_a_list(
    client: TestClient, store: Store, body: dict[str, Any]
) -> None:
    tenant = make_tenant(store)
    refused = assert_refused(client.post("/v1/ingest/batch", json=body, headers=tenant.headers))
    assert refused["field"] == "items"
    assert stat_names(client, tenant) == []


def test_batch_ingest_reports_each_bad_item_by_index_and_writes_none_of_them(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    items: list[Any] = [
        None,
        [],
        "x",
        {"stat": "", "value": 1},
        {"stat": "a", "value": "NaN"},
        {"stat": "a", "value": 1, "type": "gauge"},
        {"stat": "a", "value": 1, "t": "yesterday"},
        {"stat": "a", "value": 2**63},
        {"stat": "s" * 1_000_000, "value": 1},
    ]
    response = client.post("/v1/ingest/batch", json={"items": items}, headers=tenant.headers)
    # Item-level errors do not fail the batch; they are reported per index.
    assert response.status_code == 202, response.text[:300]
    body = response.json()
    assert body["accepted"] == 0
    assert [entry["index"] for entry in body["rejected"]] == list(range(len(items)))
    assert all(entry["error"] for entry in body["rejected"])
    assert stat_names(client, tenant) == []


def test_batch_of_1001_items_is_too_large_and_writes_nothing(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    items = [{"stat": "many", "value": 1}] * 1001
    response = client.post("/v1/ingest/batch", json={"items": items}, headers=tenant.headers)
    assert_refused(response, 413)
    assert stat_names(client, tenant) == []


# -- bodies over the configured size -----------------------------------------------------


@pytest.fixture
def small_body_client(settings: Settings, store: Store) -> Iterator[TestClient]:
    # Depends on store so the shared database is migrated before this second app starts.
    small = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        max_body_bytes=SMALL_BODY_LIMIT,
    )
    with TestClient(create_app(small)) as client:
        yield client


OVERSIZED_BODIES = {
    "/v1/ingest": {"stat": "big", "value": 1},
    "/v1/stat": {"stat": "big", "count": 1},
    "/v1/ingest/batch": {"items": [{"stat": "big", "value": 1}]},
    "/v1/auth/api-keys": {"name": "big", "scopes": ["read"]},
    "/v1/annotations": {"text": "big"},
}


def padded(body: dict[str, Any]) -> bytes:
    return encode({**body, "padding": "p" * (2 * SMALL_BODY_LIMIT)})


@pytest.mark.parametrize("path", list(OVERSIZED_BODIES))
@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_size_limit_is_refused_with_413(
    small_body_client: TestClient, store: Store, path: str, streamed: bool
) -> None:
    tenant = make_tenant(store)
    raw = padded(OVERSIZED_BODIES[path])
    content: Any = iter([raw[:1000], raw[1000:]]) if streamed else raw
    response = small_body_client.post(path, content=content, headers=tenant.headers)
    assert_refused(response, 413)
    assert stat_names(small_body_client, tenant) == []
    keys = small_body_client.get("/v1/auth/api-keys", headers=tenant.headers).json()["keys"]
    assert len(keys) == 1
    notes = small_body_client.get("/v1/annotations", headers=tenant.headers).json()
    assert notes["annotations"] == []


# -- reading: ids, ranges, resolutions, formats ------------------------------------------

BAD_IDS = ["0", "-1", "abc", "1.5", "1e3", "0x10", str(2**63), str(2**64), "9" * 100]
ID_ROUTES = [
    ("GET", "/v1/stats/{id}"),
    ("GET", "/v1/stats/{id}/data"),
    ("GET", "/v1/stats/{id}/export"),
    ("DELETE", "/v1/auth/api-keys/{id}"),
    ("DELETE", "/v1/annotations/{id}"),
]


@pytest.mark.parametrize(("method", "route"), ID_ROUTES, ids=[f"{m} {r}" for m, r in ID_ROUTES])
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_routes_refuse_ids_that_are_not_positive_64_bit_integers(
    client: TestClient, store: Store, method: str, route: str, bad_id: str
) -> None:
    tenant = make_tenant(store)
    response = client.request(method, route.replace("{id}", bad_id), headers=tenant.headers)
    assert_refused(response, 422)


@pytest.mark.parametrize(("method", "route"), ID_ROUTES, ids=[f"{m} {r}" for m, r in ID_ROUTES])
def test_routes_answer_404_for_the_largest_id_that_does_not_exist(
    client: TestClient, store: Store, method: str, route: str
) -> None:
    tenant = make_tenant(store)
    response = client.request(method, route.replace("{id}", str(2**63 - 1)), headers=tenant.headers)
    assert_refused(response, 404)


def make_stat(client: TestClient, tenant: Tenant) -> int:
    response = client.post(
        "/v1/ingest", json={"stat": "read.me", "value": 1}, headers=tenant.headers
    )
    assert response.status_code == 202
    (stat,) = client.get("/v1/stats", headers=tenant.headers).json()["stats"]
    return int(stat["id"])


BAD_QUERIES = [
    pytest.param({"from": "yesterday"}, id="from-words"),
    pytest.param({"from": "2024-13-01"}, id="from-bad-month"),
    pytest.param({"from": "NaN"}, id="from-nan"),
    pytest.param({"from": "-1"}, id="from-negative"),
    pytest.param({"from": "1e20"}, id="from-huge"),
    pytest.param({"from": "1" * 65}, id="from-too-long"),
    pytest.param({"to": "Infinity"}, id="to-infinity"),
    pytest.param({"to": "2024-01-01T25:00:00"}, id="to-bad-hour"),
    pytest.param({"to": str(2**64)}, id="to-beyond-64-bits"),
    pytest.param({"from": "2024-01-02", "to": "2024-01-01"}, id="from-after-to"),
    pytest.param({"from": "2024-01-01", "to": "2024-01-01"}, id="empty-range"),
    pytest.param({"resolution": "0m"}, id="resolution-zero"),
    pytest.param({"resolution": "5x"}, id="resolution-unit"),
    pytest.param({"resolution": "1"}, id="resolution-no-unit"),
    pytest.param({"resolution": "-1m"}, id="resolution-negative"),
    pytest.param({"resolution": "1.5h"}, id="resolution-fraction"),
    pytest.param({"resolution": "9999999999s"}, id="resolution-too-many-digits"),
    pytest.param(
        {"from": "2020-01-01", "to": "2024-01-01", "resolution": "10s"},
        id="too-many-buckets",
    ),
]


@pytest.mark.parametrize("suffix", ["data", "export"])
@pytest.mark.parametrize("params", BAD_QUERIES)
def test_data_and_export_refuse_bad_ranges_and_resolutions(
    client: TestClient, store: Store, suffix: str, params: dict[str, str]
) -> None:
    tenant = make_tenant(store)
    stat_id = make_stat(client, tenant)
    response = client.get(f"/v1/stats/{stat_id}/{suffix}", params=params, headers=tenant.headers)
    assert_refused(response, 422)


@pytest.mark.parametrize("fmt", ["xml", "json", "CSV ", "x" * 65])
def test_export_refuses_formats_other_than_csv(client: TestClient, store: Store, fmt: str) -> None:
    tenant = make_tenant(store)
    stat_id = make_stat(client, tenant)
    response = client.get(
        f"/v1/stats/{stat_id}/export", params={"format": fmt}, headers=tenant.headers
    )
    assert_refused(response, 422 if len(fmt) > 64 else 400)


@pytest.mark.parametrize("params", [p for p in BAD_QUERIES if "resolution" not in p.values[0]])
def test_annotation_list_refuses_bad_ranges(
    client: TestClient, store: Store, params: dict[str, str]
) -> None:
    tenant = make_tenant(store)
    assert_refused(client.get("/v1/annotations", params=params, headers=tenant.headers), 422)


# -- keys and annotations ----------------------------------------------------------------

KEY_BASE = {"name": "ci", "scopes": ["read"]}
KEY_FIELDS = [
    *field_cases(
        KEY_BASE,
        {
            "name": [1, True, [], {}, "n" * 201, "n" * 1_000_000],
            "scopes": [None, 1, True, {}, [], "", " , ", "fly", ["read", "fly"], [1], [None]],
        },
    ),
]


@pytest.mark.parametrize("body", [*NOT_AN_OBJECT, *KEY_FIELDS])
def test_key_creation_refuses_bad_bodies_and_creates_no_key(
    client: TestClient, store: Store, body: bytes
) -> None:
    tenant = make_tenant(store)
    assert_refused(client.post("/v1/auth/api-keys", content=body, headers=tenant.headers), 422)
    keys = client.get("/v1/auth/api-keys", headers=tenant.headers).json()["keys"]
    assert [key["id"] for key in keys] == [tenant.key_id]


ANNOTATION_BASE = {"text": "deployed", "time": "2024-01-01T00:00:00Z", "stat_ids": []}
ANNOTATION_FIELDS = field_cases(
    ANNOTATION_BASE,
    {
        "text": [MISSING, None, 1, True, [], {}, "", "   ", "t" * 2001, "t" * 1_000_000],
        "time": BAD_TIME,
        "stat_ids": [
            None,
            "1",
            1,
            {},
            [0],
            [-1],
            ["a"],
            [1.5],
            [None],
            [2**63],
            [2**64],
            [2**63 - 1],
            list(range(1, 1002)),
        ],
    },
)


@pytest.mark.parametrize("body", [*NOT_AN_OBJECT, *ANNOTATION_FIELDS])
def test_annotation_creation_refuses_bad_bodies_and_writes_nothing(
    client: TestClient, store: Store, body: bytes
) -> None:
    tenant = make_tenant(store)
    assert_refused(client.post("/v1/annotations", content=body, headers=tenant.headers), 422)
    notes = client.get("/v1/annotations", headers=tenant.headers).json()
    assert notes["annotations"] == []


def test_annotation_refuses_a_stat_of_another_project(client: TestClient, store: Store) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    stat_id = make_stat(client, owner)
    body = {"text": "not yours", "stat_ids": [stat_id]}
    refused = assert_refused(client.post("/v1/annotations", json=body, headers=other.headers), 422)
    assert refused["field"] == "stat_ids[0]"


# -- keys in headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Bearer " + "k" * 51, id="too-long"),
        pytest.param("Bearer rk_not/a/key", id="bad-characters"),
        pytest.param("Bearer " + "k" * 100_000, id="huge"),
        pytest.param("Bearer rk_" + "a" * 40, id="unknown"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/ingest"),
        ("POST", "/v1/stat"),
        ("POST", "/v1/ingest/batch"),
        ("GET", "/v1/stats"),
        ("GET", "/v1/auth/api-keys"),
        ("POST", "/v1/annotations"),
    ],
)
def test_requests_without_a_valid_key_are_refused_with_401(
    client: TestClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = {"stat": "x", "value": 1, "items": [], "text": "x"}
    response = client.request(method, path, json=body, headers=headers)
    assert_refused(response, 401)


# -- text that the database cannot store -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/annotations", {"text": "deployed\x00"}),
        ("/v1/auth/api-keys", {"name": "ci\x00", "scopes": ["read"]}),
    ],
    ids=["annotation-text", "key-name"],
)
def test_nul_characters_in_stored_text_are_refused(
    client: TestClient, store: Store, path: str, body: dict[str, Any]
) -> None:
    tenant = make_tenant(store)
    assert_refused(client.post(path, json=body, headers=tenant.headers), 422)
