"""StatHat's alert endpoints, ``/x/{access_token}/alerts…``, over Roost's alert engine: value,
delta and data alerts are thresholds, deltas and deadmen, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.alerting.evaluator import Evaluator
from roost.domain.times import now_ms
from roost.storage.store import Store


def stat_id(client: TestClient, tenant: Tenant, name: str = "signups") -> str:
    body = client.post("/ez", json={"ezkey": tenant.key, "data": [{"stat": name, "count": 3}]})
    assert body.json()["status"] == 200
    found = client.get(f"/x/{tenant.key}/stat", params={"name": name})
    assert found.status_code == 200
    return str(found.json()["id"])


def test_value_delta_and_data_alerts_round_trip(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    sid = stat_id(client, tenant)
    made_value = client.post(
        f"/x/{tenant.key}/alerts",
        data={
            "stat_id": sid,
            "kind": "value",
            "time_window": "1h",
            "operator": "greater than",
            "threshold": "100",
        },
    )
    assert made_value.status_code == 200, made_value.text
    value = made_value.json()
    assert value == {
        "id": value["id"],
        "stat_id": sid,
        "stat_name": "signups",
        "kind": "value",
        "time_window": "1h",
        "threshold": 100.0,
        "operator": "greater than",
        "name": "signups: > 100 over 1h",
        "state": "ok",
    }
    delta = client.post(
        f"/x/{tenant.key}/alerts",
        json={
            "stat_id": sid,
            "kind": "delta",
            "time_window": "1d",
            "operator": "different than",
            "percentage": 25,
            "time_delta": "1w",
        },
    ).json()
    assert (delta["operator"], delta["percentage"], delta["time_delta"]) == (
        "different than",
        25.0,
        "1w",
    )
    data = client.post(f"/x/{tenant.key}/alerts?stat_id={sid}&kind=data&time_window=1M").json()
    assert data["kind"] == "data"
    assert data["time_window"] == "1M"

    listed = client.get(f"/x/{tenant.key}/alerts").json()
    assert {alert["id"] for alert in listed} == {value["id"], delta["id"], data["id"]}
    assert client.get(f"/x/{tenant.key}/alerts/{delta['id']}").json() == delta
    # The same alerts in Roost's own API.
    native = client.get(f"/api/v1/alerts/{value['id']}", headers=tenant.headers).json()
    assert (native["kind"], native["operator"], native["value"]) == ("threshold", ">", 100)

    gone = client.delete(f"/x/{tenant.key}/alerts/{data['id']}")
    assert gone.status_code == 200
    assert gone.json() == {"msg": "alert deleted."}
    assert client.get(f"/x/{tenant.key}/alerts/{data['id']}").status_code == 404


def test_a_stathat_value_alert_fires_on_its_stat(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    sid = stat_id(client, tenant, "errors")
    made = client.post(
        f"/x/{tenant.key}/alerts",
        data={
            "stat_id": sid,
            "kind": "value",
            "time_window": "5m",
            "operator": "greater than",
            "threshold": "2",
        },
    ).json()
    client.portal.call(Evaluator(store).run_pass, now_ms())  # type: ignore[union-attr]
    assert client.get(f"/x/{tenant.key}/alerts/{made['id']}").json()["state"] == "firing"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "value"}, "stat_id: is required"),
        ({"stat_id": "{sid}", "kind": "sometimes", "time_window": "1h"}, "kind: must be one of"),
        ({"stat_id": "{sid}", "kind": "data", "time_window": "2h"}, "time_window: must be one of"),
        (
            {"stat_id": "{sid}", "kind": "value", "time_window": "1h", "operator": "equal to"},
            "operator: must be one of",
        ),
        (
            {"stat_id": "{sid}", "kind": "value", "time_window": "1h", "operator": "less than"},
            "threshold: is required",
        ),
        (
            {
                "stat_id": "{sid}",
                "kind": "delta",
                "time_window": "1h",
                "operator": "less than",
                "percentage": "-3",
                "time_delta": "1d",
            },
            "percentage: must be a number from 0",
        ),
    ],
)
def test_bad_fields_are_400_with_the_reason(
    client: TestClient, store: Store, fields: dict[str, Any], message: str
) -> None:
    tenant = make_tenant(store)
    sid = stat_id(client, tenant)
    sent = {name: value.replace("{sid}", sid) for name, value in fields.items()}
    response = client.post(f"/x/{tenant.key}/alerts", data=sent)
    assert response.status_code == 400, response.text
    assert response.json()["msg"].startswith(message)


def test_keys_scopes_and_other_projects(client: TestClient, store: Store) -> None:
    owner, other = make_tenant(store), make_tenant(store)
    sid = stat_id(client, owner)
    fields = {"stat_id": sid, "kind": "data", "time_window": "1h"}
    made = client.post(f"/x/{owner.key}/alerts", data=fields).json()
    assert client.post(f"/x/{other.key}/alerts", data=fields).status_code == 404
    assert client.get(f"/x/{other.key}/alerts/{made['id']}").status_code == 404
    assert client.delete(f"/x/{other.key}/alerts/{made['id']}").status_code == 404
    assert client.get(f"/x/{other.key}/alerts").json() == []
    reader = add_key(store, owner, "read")
    assert client.get(f"/x/{reader}/alerts").status_code == 200
    assert client.post(f"/x/{reader}/alerts", data=fields).status_code == 403
    assert client.delete(f"/x/{reader}/alerts/{made['id']}").status_code == 403
    assert client.get("/x/nope/alerts").status_code == 401
    assert client.get(f"/x/{owner.key}/alerts/abc").status_code == 404
