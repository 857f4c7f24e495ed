"""StatHat ingest: /ez, /c and /v in every shape real clients send, on both databases."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from conftest import Tenant, add_key, make_tenant
from roost.app import create_app
from roost.domain.times import now_ms
from roost.settings import Settings
from roost.storage.store import Store
from roostserver import roost_env, run_roost

OK = {"status": 200, "msg": "ok"}
HOUR_START = 1_700_002_800  # 2023-11-14T23:00:00Z


def form(client: TestClient, path: str, body: str | bytes, **headers: str) -> Response:
    """POST a raw body, as the Node client does (form type, whatever the encoding)."""
    return client.post(
        path,
        content=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


def answer(response: Response) -> dict[str, Any]:
    """StatHat's body, checking the HTTP 200 every failure also gets (outside strict mode)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def stats(client: TestClient, tenant: Tenant) -> dict[str, dict[str, Any]]:
    listed = client.get(f"/x/{tenant.key}/statlist")
    assert listed.status_code == 200, listed.text
    return {stat["name"]: stat for stat in listed.json()}


def minutes(client: TestClient, tenant: Tenant, name: str, start: int = HOUR_START) -> list:
    """The stat's 60 minute buckets from ``start`` (values only)."""
    stat_id = stats(client, tenant)[name]["id"]
    data = client.get(f"/x/{tenant.key}/data/{stat_id}", params={"t": "1h1m", "start": start})
    assert data.status_code == 200, data.text
    return [point["value"] for point in data.json()[0]["points"]]


def total(client: TestClient, tenant: Tenant, name: str) -> float:
    stat_id = stats(client, tenant)[name]["id"]
    data = client.get(f"/x/{tenant.key}/data/{stat_id}", params={"t": "2d1d"}).json()
    return float(sum(point["value"] for point in data[0]["points"]))


# -- /ez ---------------------------------------------------------------------------------------


def test_ez_get_with_a_query_string_creates_a_counter(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.get("/ez", params={"ezkey": tenant.key, "stat": "page views", "count": 2})
    assert answer(response) == OK
    stat = stats(client, tenant)["page views"]
    assert stat["counter"] is True
    assert total(client, tenant, "page views") == 2


def test_ez_post_of_an_encoded_form_creates_a_value(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    body = f"ezkey={tenant.key}&stat=request+time%20%28ms%29&value=23.094&t={HOUR_START + 60}"
    assert answer(form(client, "/ez", body)) == OK
    assert stats(client, tenant)["request time (ms)"]["counter"] is False
    assert minutes(client, tenant, "request time (ms)")[1] == 23.094


def test_ez_post_of_an_unencoded_form_keeps_spaces_and_percent_signs(
    client: TestClient, store: Store
) -> None:
    # StatHat's Node client joins k=v pairs without encoding anything.
    tenant = make_tenant(store)
    body = f"ezkey={tenant.key}&stat=disk use 95% & up&value=1"
    assert answer(form(client, "/ez", body.replace(" & up", ""))) == OK
    assert "disk use 95%" in stats(client, tenant)


def test_ez_post_reads_the_query_string_too_and_the_body_wins(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    response = client.post(
        "/ez",
        params={"ezkey": tenant.key, "stat": "from query", "count": 1},
        content=b"stat=from+body",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer(response) == OK
    assert list(stats(client, tenant)) == ["from body"]


def test_ez_accepts_the_legacy_email_field_as_the_key(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    response = client.get("/ez", params={"email": tenant.key, "stat": "legacy", "count": 1})
    assert answer(response) == OK


@pytest.mark.parametrize(
    ("raw", "number"),
    [("1.000000", 1), ("2e3", 2000), ("1E-2", 0.01), ("-4", -4), ("0.5", 0.5), ("+7", 7)],
)
def test_numbers_are_read_as_clients_format_them(
    client: TestClient, store: Store, raw: str, number: float
) -> None:
    tenant = make_tenant(store)
    params = {"ezkey": tenant.key, "stat": "n", "value": raw, "t": HOUR_START}
    assert answer(client.get("/ez", params=params)) == OK
    assert minutes(client, tenant, "n")[0] == number


def test_a_tilde_posts_the_number_to_every_expanded_stat(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    params = {"ezkey": tenant.key, "stat": "messages sent~total,female,europe", "count": 3}
    assert answer(client.get("/ez", params=params)) == OK
    found = stats(client, tenant)
    assert sorted(found) == ["messages sent europe", "messages sent female", "messages sent total"]
    assert all(total(client, tenant, name) == 3 for name in found)


def test_count_wins_when_both_count_and_value_are_sent(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    params = {"ezkey": tenant.key, "stat": "both", "count": 2, "value": 9}
    assert answer(client.get("/ez", params=params)) == OK
    assert stats(client, tenant)["both"]["counter"] is True
    assert total(client, tenant, "both") == 2


def test_t_places_the_point_in_its_minute(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    for offset, count in ((0, 1), (59, 2), (60 * 7 + 30, 5)):
        params = {"ezkey": tenant.key, "stat": "timed", "count": count, "t": HOUR_START + offset}
        assert answer(client.get("/ez", params=params)) == OK
    buckets = minutes(client, tenant, "timed")
    assert (buckets[0], buckets[7], sum(buckets)) == (3, 5, 8)


# -- /ez JSON bulk ---------------------------------------------------------------------------


def test_json_bulk_records_every_item_and_counts_them(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    body = {
        "ezkey": tenant.key,
        "data": [
            {"stat": "page view", "count": 2},
            {"stat": "messages sent~total,female,europe", "count": 1},
            {"stat": "request time~total,messages", "value": 23.094},
            {"stat": "ws0: load average", "value": 0.732, "t": HOUR_START},
        ],
    }
    assert answer(client.post("/ez", json=body)) == {**OK, "count": 4}
    found = stats(client, tenant)
    assert len(found) == 1 + 3 + 2 + 1
    assert minutes(client, tenant, "ws0: load average")[0] == 0.732


def test_json_bulk_lenient_items_take_the_careful_path(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    data = [
        {"stat": "s", "count": "1.000000", "t": str(HOUR_START)},
        {"stat": "s", "count": "2e0", "t": "2023-11-14T23:01:00Z"},
    ]
    assert answer(client.post("/ez", json={"ezkey": tenant.key, "data": data}))["count"] == 2
    assert minutes(client, tenant, "s")[:2] == [1, 2]


def test_json_bulk_reports_bad_items_and_keeps_the_good_ones(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    client.get("/ez", params={"ezkey": tenant.key, "stat": "fixed", "count": 1})
    data = [
        {"stat": "good", "count": 1},
        {"stat": "good", "count": "many"},
        {"stat": "fixed", "value": 1},
        {"count": 1},
        "not an object",
        {"stat": "no number"},
        {"stat": "good", "count": 2},
    ]
    body = answer(client.post("/ez", json={"ezkey": tenant.key, "data": data}))
    assert (body["status"], body["msg"], body["count"]) == (200, "ok", 2)
    assert [error["index"] for error in body["errors"]] == [1, 2, 3, 4, 5]
    assert body["errors"][0]["msg"].startswith("data[1].count")
    assert body["errors"][1]["msg"].startswith("data[2].value: stat 'fixed' is a counter")
    assert total(client, tenant, "good") == 3
    assert "no number" not in stats(client, tenant)


def test_json_bulk_with_no_good_item_is_a_400_in_the_body(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    body = answer(client.post("/ez", json={"ezkey": tenant.key, "data": [{"stat": "x"}]}))
    assert (body["status"], body["count"]) == (400, 0)
    assert body["msg"].startswith("data[0].count")


def test_json_is_recognised_by_its_brace_whatever_the_content_type(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    raw = f'{{"ezkey": "{tenant.key}", "data": [{{"stat": "plain", "count": 1}}]}}\n'
    assert answer(form(client, "/ez", raw, **{"Content-Type": "text/plain"}))["count"] == 1


def test_json_bulk_may_carry_its_ezkey_in_the_query_string(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    body = {"data": [{"stat": "q", "count": 1}, {"stat": "q~a,b", "count": "2"}]}
    assert answer(client.post("/ez", params={"ezkey": tenant.key}, json=body))["count"] == 2
    assert sorted(stats(client, tenant)) == ["q", "q a", "q b"]


def test_json_bulk_over_1000_items_is_refused_whole(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    data = [{"stat": "bulk", "count": 1}] * 1001
    body = answer(client.post("/ez", json={"ezkey": tenant.key, "data": data}))
    assert body["status"] == 413
    assert stats(client, tenant) == {}
    accepted = answer(client.post("/ez", json={"ezkey": tenant.key, "data": data[:1000]}))
    assert accepted["count"] == 1000


# -- kinds, keys and bad input ---------------------------------------------------------------


def test_a_stats_kind_is_fixed_by_its_first_point(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    assert answer(client.get("/ez", params={"ezkey": tenant.key, "stat": "k", "value": 1})) == OK
    body = answer(client.get("/ez", params={"ezkey": tenant.key, "stat": "k", "count": 1}))
    assert body == {
        "status": 400,
        "msg": "count: stat 'k' is a value; a stat's type is fixed by its first point",
    }


def test_a_tilde_post_with_one_wrong_kind_stores_nothing(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    client.get("/ez", params={"ezkey": tenant.key, "stat": "a y", "value": 1})
    body = answer(client.get("/ez", params={"ezkey": tenant.key, "stat": "a~x,y", "count": 1}))
    assert body["status"] == 400
    assert list(stats(client, tenant)) == ["a y"]  # "a x" was not left behind


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"stat": "s", "count": 1}, 401, "missing ezkey"),
        ({"ezkey": "rk_unknown", "stat": "s", "count": 1}, 401, "invalid ezkey"),
        ({"ezkey": "someone@example.com", "stat": "s", "count": 1}, 401, "invalid ezkey"),
        ({"ezkey": "KEY", "count": 1}, 400, "stat: is required and must be a string"),
        ({"ezkey": "KEY", "stat": "s"}, 400, "count: one of count or value is required"),
        ({"ezkey": "KEY", "stat": "s", "count": "lots"}, 400, "count: must be a number"),
        ({"ezkey": "KEY", "stat": "s", "value": "nan"}, 400, "value: must be a finite number"),
        ({"ezkey": "KEY", "stat": "a" * 256, "count": 1}, 400, None),
        ({"ezkey": "KEY", "stat": "~", "count": 1}, 400, "stat: names nothing after '~'"),
        ({"ezkey": "KEY", "stat": "s", "count": 1, "t": "soon"}, 400, None),
        ({"ezkey": "KEY", "stat": "s", "count": 1, "t": 99_999_999_999}, 400, None),
    ],
)
def test_bad_requests_answer_http_200_with_the_real_status_in_the_body(
    client: TestClient, store: Store, params: dict[str, Any], status: int, message: str | None
) -> None:
    tenant = make_tenant(store)
    if params.get("ezkey") == "KEY":
        params = {**params, "ezkey": tenant.key}
    body = answer(client.get("/ez", params=params))
    assert body["status"] == status
    if message is not None:
        assert body["msg"] == message
    assert stats(client, tenant) == {}


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe=\x00",
        b"stat=%ff%fe&count=1",
        b"{",
        b"[1, 2]",
        b'{"ezkey": 5, "data": []}',
        b'{"ezkey": "k", "data": 3}',
        b"&".join([b"f%d=1" % i for i in range(60)]),
    ],
)
def test_malformed_bodies_are_refused_in_the_body_never_with_a_500(
    client: TestClient, store: Store, body: bytes
) -> None:
    make_tenant(store)
    found = answer(form(client, "/ez", body))
    assert 400 <= found["status"] < 500, found


def test_key_scopes_and_revocation_apply(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    reader = add_key(store, tenant, "read")
    body = answer(client.get("/ez", params={"ezkey": reader, "stat": "s", "count": 1}))
    assert body == {"status": 403, "msg": "this key lacks the 'write' scope"}
    writer = add_key(store, tenant, "write")
    assert answer(client.get("/ez", params={"ezkey": writer, "stat": "s", "count": 1})) == OK
    other = make_tenant(store)
    assert stats(client, other) == {}


def test_wrong_methods_are_405(client: TestClient) -> None:
    for path in ("/ez", "/c", "/v"):
        assert client.put(path).status_code == 405


# -- classic /c and /v -----------------------------------------------------------------------


def test_classic_posts_find_the_stat_by_its_classic_key(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    client.get("/ez", params={"ezkey": tenant.key, "stat": "signups", "count": 1, "t": HOUR_START})
    classic_key = stats(client, tenant)["signups"]["classic_key"]
    assert len(classic_key) >= 16
    body = f"key={classic_key}&ukey={tenant.key}&count=4&t={HOUR_START}"
    assert answer(form(client, "/c", body)) == OK
    assert minutes(client, tenant, "signups")[0] == 5


def test_an_unknown_classic_key_creates_a_stat_named_after_it(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    counter = {"key": "orders placed", "ukey": tenant.key, "count": "2.000000"}
    assert answer(client.get("/c", params=counter)) == OK
    assert answer(client.post("/v", data={"key": "queue depth", "ukey": tenant.key, "value": 7}))
    found = stats(client, tenant)
    assert found["orders placed"]["counter"] is True
    assert found["orders placed"]["classic_key"] == "orders placed"
    assert found["queue depth"]["counter"] is False
    # The same key again finds the stat it made.
    assert answer(client.get("/c", params=counter)) == OK
    assert total(client, tenant, "orders placed") == 4


def test_classic_posts_check_the_kind_and_their_fields(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    client.get("/c", params={"key": "k", "ukey": tenant.key, "count": 1})
    wrong = answer(client.get("/v", params={"key": "k", "ukey": tenant.key, "value": 1}))
    assert wrong["status"] == 400 and "is a counter" in wrong["msg"]
    no_count = answer(client.get("/c", params={"key": "k", "ukey": tenant.key, "value": 1}))
    assert no_count == {"status": 400, "msg": "count: is required"}
    no_key = answer(client.get("/c", params={"ukey": tenant.key, "count": 1}))
    assert no_key["status"] == 400 and no_key["msg"].startswith("key:")
    for ukey in (None, "rk_unknown", "not a key!"):
        params = {"key": "k", "count": 1, **({"ukey": ukey} if ukey else {})}
        assert answer(client.get("/c", params=params))["status"] == 401


# -- aliases -----------------------------------------------------------------------------------


def new_alias() -> str:
    return f"ops-{time.time_ns()}@example.com"


def test_an_alias_works_as_an_ezkey_and_nowhere_else(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    alias = new_alias()
    created = client.post(
        "/v1/auth/api-keys", json={"name": "stathat", "aliases": [alias]}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["aliases"] == [alias]
    assert answer(client.get("/ez", params={"ezkey": alias, "stat": "s", "count": 1})) == OK
    bulk = {"ezkey": alias, "data": [{"stat": "s", "count": 1}]}
    assert answer(client.post("/ez", json=bulk))["count"] == 1
    assert total(client, tenant, "s") == 2
    # Not a ukey, not an export token, not a bearer key.
    classic = answer(client.get("/c", params={"key": "s", "ukey": alias, "count": 1}))
    assert classic["status"] == 401
    assert client.get(f"/x/{alias}/statlist").status_code == 401
    bearer = client.get("/v1/stats", headers={"Authorization": f"Bearer {alias}"})
    assert bearer.status_code == 401
    listed = client.get("/v1/auth/api-keys", headers=tenant.headers).json()["keys"]
    assert {key["name"]: key["aliases"] for key in listed} == {"test": [], "stathat": [alias]}


def test_aliases_are_unique_need_write_and_die_with_their_key(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    alias = new_alias()
    first = client.post("/v1/auth/api-keys", json={"aliases": [alias]}, headers=tenant.headers)
    assert first.status_code == 201
    other = make_tenant(store)
    taken = client.post("/v1/auth/api-keys", json={"aliases": [alias]}, headers=other.headers)
    assert taken.status_code == 422 and "already an alias" in taken.json()["error"]
    assert len(client.get("/v1/auth/api-keys", headers=other.headers).json()["keys"]) == 1
    read_only = client.post(
        "/v1/auth/api-keys",
        json={"aliases": [new_alias()], "scopes": ["read"]},
        headers=tenant.headers,
    )
    assert read_only.status_code == 422 and read_only.json()["field"] == "aliases"
    for bad in ([""], ["a\nb"], ["x" * 256], [1]):
        refused = client.post("/v1/auth/api-keys", json={"aliases": bad}, headers=tenant.headers)
        assert refused.status_code == 422, bad

    revoked = client.delete(f"/v1/auth/api-keys/{first.json()['id']}", headers=tenant.headers)
    assert revoked.status_code == 204
    gone = answer(client.get("/ez", params={"ezkey": alias, "stat": "s", "count": 1}))
    assert gone["status"] == 401
    # A revoked key's alias is free again.
    again = client.post("/v1/auth/api-keys", json={"aliases": [alias]}, headers=other.headers)
    assert again.status_code == 201
    assert answer(client.get("/ez", params={"ezkey": alias, "stat": "s", "count": 1})) == OK
    assert list(stats(client, other)) == ["s"]


# -- strict mode -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def strict_client(store: Store, settings: Settings) -> Iterator[TestClient]:
    """An app on the same store that answers with real statuses."""
    strict = settings.model_copy(update={"stathat_strict_status": True})
    with TestClient(create_app(strict, store=store)) as test_client:
        yield test_client


def test_strict_mode_answers_failures_with_their_real_status(
    strict_client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    ok = strict_client.get("/ez", params={"ezkey": tenant.key, "stat": "s", "count": 1})
    assert (ok.status_code, ok.json()) == (200, OK)
    for params, status in (
        ({"ezkey": "rk_unknown", "stat": "s", "count": 1}, 401),
        ({"ezkey": tenant.key, "stat": "s"}, 400),
        ({"ezkey": tenant.key, "stat": "s", "value": 1}, 400),
    ):
        response = strict_client.get("/ez", params=params)
        assert response.status_code == status
        assert response.json()["status"] == status
    big = strict_client.post("/ez", json={"ezkey": tenant.key, "data": [{"stat": "s"}] * 1001})
    assert big.status_code == 413
    classic = strict_client.get("/c", params={"key": "s", "ukey": "rk_unknown", "count": 1})
    assert classic.status_code == 401


def test_times_far_in_the_past_are_fine(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    long_ago = now_ms() // 1000 - 400 * 86400
    params = {"ezkey": tenant.key, "stat": "old", "count": 1, "t": long_ago}
    assert answer(client.get("/ez", params=params)) == OK


def test_the_cli_gives_keys_aliases_and_lists_them(client: TestClient, settings: Settings) -> None:
    env = roost_env(settings.data_dir, settings.database_url)
    project, alias = f"cli-{time.time_ns()}", f"a{time.time_ns() % 10**6}@x.io"
    done = run_roost(env, "keys", "create", "--project", project, "--alias", alias)
    assert done.returncode == 0, done.stderr
    assert answer(client.get("/ez", params={"ezkey": alias, "stat": "s", "count": 1})) == OK
    listed = run_roost(env, "keys", "list", "--project", project)
    assert listed.returncode == 0 and alias in listed.stdout, listed.stdout
    taken = run_roost(env, "keys", "create", "--project", project + "-2", "--alias", alias)
    assert taken.returncode != 0 and taken.stdout == ""
    assert "already an alias" in taken.stderr
    reader = run_roost(
        env, "keys", "create", "--project", project, "--scopes", "read", "--alias", "r@x.io"
    )
    assert reader.returncode != 0 and "write scope" in reader.stderr
