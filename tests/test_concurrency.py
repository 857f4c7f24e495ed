"""200 ingests at once lose nothing and create each stat once — in process and over a socket.

The in-process tests drive the app through httpx's ASGI transport, so the 200 requests really
are concurrent tasks awaiting the writer. The real-server test starts ``roost serve`` on
127.0.0.1 and sends the same load over TCP.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from conftest import Tenant, make_tenant
from roost.api.lean import LeanDispatcher
from roost.domain.times import now_ms
from roost.storage import series as series_store
from roost.storage.store import Store
from roostserver import create_key, roost_env, roost_server

PARALLEL = 200
REQUEST_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 60.0


# -- the load ----------------------------------------------------------------------------


async def ingest_in_parallel(client: httpx.AsyncClient, key: str, stat: str) -> list[int]:
    headers = {"Authorization": f"Bearer {key}"}
    body = {"stat": stat, "value": 1, "type": "counter"}
    requests = [client.post("/v1/ingest", json=body, headers=headers) for _ in range(PARALLEL)]
    responses = await asyncio.wait_for(asyncio.gather(*requests), LOAD_TIMEOUT_S)
    return [response.status_code for response in responses]


async def totals(client: httpx.AsyncClient, key: str, stat: str) -> dict[str, Any]:
    """How many stats carry the name, and the sum and count of their points."""
    headers = {"Authorization": f"Bearer {key}"}
    listing = (await client.get("/v1/stats", headers=headers)).json()["stats"]
    matching = [row for row in listing if row["name"] == stat]
    now = int(time.time())
    params = {"from": now - 3 * 3600, "to": now + 3600, "resolution": "1h"}
    data = (
        await client.get(f"/v1/stats/{matching[0]['id']}/data", params=params, headers=headers)
    ).json()
    return {
        "stats": len(matching),
        "sum": sum(point["value"] for point in data["points"]),
        "count": sum(point["count"] for point in data["points"]),
    }


async def load_then_count(
    client: httpx.AsyncClient, key: str, stat: str
) -> tuple[list[int], dict[str, Any]]:
    """The statuses of PARALLEL concurrent ingests, then what the stat holds afterwards."""
    statuses = await ingest_in_parallel(client, key, stat)
    return statuses, await totals(client, key, stat)


# -- in process --------------------------------------------------------------------------


async def load_in_process(
    app: LeanDispatcher, key: str, stat: str
) -> tuple[list[int], dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", timeout=REQUEST_TIMEOUT_S
    ) as client:
        return await load_then_count(client, key, stat)


def create_stat(store: Store, tenant: Tenant, name: str) -> None:
    store.write_now(
        lambda tx: series_store.get_or_create_series(
            tx.conn, project_id=tenant.project_id, name=name, kind="counter", created_at=now_ms()
        )
    )


def test_200_parallel_ingests_to_an_existing_stat_are_all_counted(
    app: LeanDispatcher, store: Store
) -> None:
    tenant = make_tenant(store)
    stat = "parallel.hits"
    create_stat(store, tenant, stat)
    statuses, found = asyncio.run(load_in_process(app, tenant.key, stat))
    assert statuses == [202] * PARALLEL
    assert found == {"stats": 1, "sum": PARALLEL, "count": PARALLEL}


def test_200_parallel_ingests_to_a_new_stat_create_it_exactly_once(
    app: LeanDispatcher, store: Store
) -> None:
    tenant = make_tenant(store)
    stat = f"brand.new.{uuid.uuid4().hex[:8]}"
    statuses, found = asyncio.run(load_in_process(app, tenant.key, stat))
    assert statuses == [202] * PARALLEL
    assert found == {"stats": 1, "sum": PARALLEL, "count": PARALLEL}


# -- a real server -----------------------------------------------------------------------


async def load_over_tcp(base_url: str, key: str, stat: str) -> tuple[list[int], dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        return await load_then_count(client, key, stat)


def test_200_parallel_ingests_over_tcp_to_a_real_server_are_all_counted(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    env = roost_env(tmp_path, fresh_database_url(tmp_path))
    key = create_key(env, "load")
    stat = "tcp.hits"
    with roost_server(env, tmp_path / "serve.log") as server:
        statuses, found = asyncio.run(load_over_tcp(server.base_url, key, stat))
    assert statuses == [202] * PARALLEL
    assert found == {"stats": 1, "sum": PARALLEL, "count": PARALLEL}
