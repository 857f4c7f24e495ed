"""The ledger of imported buckets: an import replaces what imports wrote, never adds to it.

Storage-level, on both databases: buckets written by ``replace_imported_buckets`` are read
back through the StatHat export API of the in-process app.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from roost.domain.times import MINUTE, now_ms
from roost.storage import import_ledger
from roost.storage import series as series_store
from roost.storage.store import Store

HOUR_START = 1_700_002_800_000  # 2023-11-14T23:00:00Z, in ms


def new_stat(store: Store, tenant: Tenant, name: str, kind: str) -> int:
    row = store.write_now(
        lambda tx: series_store.get_or_create_series(
            tx.conn, project_id=tenant.project_id, name=name, kind=kind, created_at=now_ms()
        )
    )
    return row.id


def replace(store: Store, tenant: Tenant, stat_id: int, values: dict[int, float]) -> int:
    changed: int = store.write_now(
        lambda tx: import_ledger.replace_imported_buckets(
            tx.conn,
            project_id=tenant.project_id,
            series_id=stat_id,
            tier=MINUTE,
            start=HOUR_START,
            end=HOUR_START + 60 * MINUTE,
            values=values,
        )
    )
    return changed


def minutes(client: TestClient, tenant: Tenant, stat_id: int) -> list[Any]:
    answer = client.get(
        f"/x/{tenant.key}/data/{stat_id}", params={"t": "5m1m", "start": HOUR_START // 1000}
    )
    assert answer.status_code == 200, answer.text
    return [point["value"] for point in answer.json()[0]["points"]]


def minute(index: int) -> int:
    return HOUR_START + index * MINUTE


def test_an_import_replaces_what_the_last_one_wrote(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat = new_stat(store, tenant, "imported", "counter")
    assert replace(store, tenant, stat, {minute(0): 5, minute(1): 3}) == 2
    assert minutes(client, tenant, stat) == [5, 3, 0, 0, 0]
    assert replace(store, tenant, stat, {minute(0): 5, minute(1): 3}) == 0  # nothing to do
    assert minutes(client, tenant, stat) == [5, 3, 0, 0, 0]
    # The source changed: one bucket is new, one grew, one is gone.
    assert replace(store, tenant, stat, {minute(0): 7, minute(2): 1}) == 3
    assert minutes(client, tenant, stat) == [7, 0, 1, 0, 0]
    assert replace(store, tenant, stat, {}) == 2
    assert minutes(client, tenant, stat) == [0, 0, 0, 0, 0]


def test_live_points_in_an_imported_bucket_are_kept(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    live = [
        {"stat": "shared", "count": 10, "t": (HOUR_START + 5_000) // 1000},
        {"stat": "shared", "count": 2, "t": (minute(3) + 5_000) // 1000},
    ]
    assert client.post("/ez", json={"ezkey": tenant.key, "data": live}).json()["count"] == 2
    stat = int(client.get(f"/x/{tenant.key}/stat", params={"name": "shared"}).json()["id"])
    replace(store, tenant, stat, {minute(0): 4, minute(3): 1})
    assert minutes(client, tenant, stat) == [14, 0, 0, 3, 0]
    replace(store, tenant, stat, {minute(0): 4, minute(3): 1})
    assert minutes(client, tenant, stat) == [14, 0, 0, 3, 0]
    replace(store, tenant, stat, {})
    assert minutes(client, tenant, stat) == [10, 0, 0, 2, 0]


def test_a_value_bucket_reads_back_as_the_sources_mean(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    stat = new_stat(store, tenant, "latency", "value")
    replace(store, tenant, stat, {minute(0): 12.5, minute(4): 0.25})
    assert minutes(client, tenant, stat) == [12.5, 0, 0, 0, 0.25]
    replace(store, tenant, stat, {minute(0): 11.0, minute(4): 0.25})
    assert minutes(client, tenant, stat) == [11, 0, 0, 0, 0.25]
