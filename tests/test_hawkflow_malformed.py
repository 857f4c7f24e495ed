"""Bad input never reaches a 500 on the HawkFlow routes, and a refused request writes nothing.

Every field of every route gets every JSON type it should not have, and every route gets
bodies that are not JSON objects at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import make_tenant
from hawkflow import hawk_headers, processes
from roost.storage.store import Store

VALID: dict[str, dict[str, Any]] = {
    "/v1/start": {"process": "p", "meta": "m", "uid": "u"},
    "/v1/end": {"process": "p", "meta": "m", "uid": "u", "info": "i"},
    "/v1/metrics": {"process": "p", "meta": "m", "items": {"a": 1}, "df": 0},
    "/v1/exception": {"process": "p", "meta": "m", "exception": "boom"},
}
# Wrong for every field: each route refuses each of these in each of its fields.
WRONG_VALUES: list[Any] = [
    12,
    -1.5,
    [],
    ["p"],
    {"nested": "object"},
    "\x00",
    "x" * 20_000,
]
BAD_BODIES = [b"[]", b"null", b"42", b'"text"', b"{", b'{"process": }', b"\x80\x81", b"{}" * 3]


def wrong_field_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for path, body in VALID.items():
        for field in body:
            for value in WRONG_VALUES:
                if field in ("info", "exception") and value in ("\x00", "x" * 20_000):
                    continue  # free text: NUL is replaced; a long info is capped
                cases.append((path, field, value))
    return cases


@pytest.mark.parametrize(("path", "field", "value"), wrong_field_cases())
def test_a_wrong_value_in_any_field_is_4xx_and_writes_nothing(
    client: TestClient, store: Store, path: str, field: str, value: Any
) -> None:
    tenant = make_tenant(store)
    body = {**VALID[path], field: value}
    response = client.post(path, json=body, headers=hawk_headers(tenant))
    assert 400 <= response.status_code < 500, response.text
    payload = response.json()
    assert payload["status"] == response.status_code
    assert payload["error"].startswith(f"{field}")
    assert processes(client, tenant) == {}


@pytest.mark.parametrize("path", list(VALID))
@pytest.mark.parametrize("raw", BAD_BODIES)
def test_a_body_that_is_not_a_json_object_is_422_and_writes_nothing(
    client: TestClient, store: Store, path: str, raw: bytes
) -> None:
    tenant = make_tenant(store)
    response = client.post(path, content=raw, headers=hawk_headers(tenant))
    assert response.status_code == 422
    assert response.json()["error"].startswith("body: ")
    assert processes(client, tenant) == {}


def test_nul_in_exception_text_is_kept_as_a_replacement_character(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    body = {"process": "p", "exception": "bad\x00byte"}
    assert client.post("/v1/exception", json=body, headers=hawk_headers(tenant)).status_code == 201
    [group] = client.get("/api/v1/exceptions", headers=tenant.headers).json()["items"]
    detail = client.get(f"/api/v1/exceptions/{group['id']}", headers=tenant.headers).json()
    assert detail["latest"]["text"] == "bad\ufffdbyte"
