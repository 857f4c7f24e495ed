"""200 ingests at once lose nothing and create each stat once — in process and over a socket.

The in-process tests drive the app through httpx's ASGI transport, so the 200 requests really
are concurrent tasks awaiting the writer. The real-server test starts ``roost serve`` on
127.0.0.1 and sends the same load over TCP.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Tenant, make_tenant, new_database_url
from roost.api.lean import LeanDispatcher
from roost.domain.times import now_ms
from roost.storage import series as series_store
from roost.storage.store import Store

PARALLEL = 200
REQUEST_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
ROOST = Path(sys.executable).with_name("roost")
HOST = "127.0.0.1"


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


def in_process_client(app: LeanDispatcher) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=REQUEST_TIMEOUT_S)


# -- in process --------------------------------------------------------------------------


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

    async def scenario() -> tuple[list[int], dict[str, Any]]:
        async with in_process_client(app) as client:
            statuses = await ingest_in_parallel(client, tenant.key, stat)
            return statuses, await totals(client, tenant.key, stat)

    statuses, found = asyncio.run(scenario())
    assert statuses == [202] * PARALLEL
    assert found == {"stats": 1, "sum": PARALLEL, "count": PARALLEL}


def test_200_parallel_ingests_to_a_new_stat_create_it_exactly_once(
    app: LeanDispatcher, store: Store
) -> None:
    tenant = make_tenant(store)
    stat = f"brand.new.{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[list[int], dict[str, Any]]:
        async with in_process_client(app) as client:
            statuses = await ingest_in_parallel(client, tenant.key, stat)
            return statuses, await totals(client, tenant.key, stat)

    statuses, found = asyncio.run(scenario())
    assert statuses == [202] * PARALLEL
    assert found == {"stats": 1, "sum": PARALLEL, "count": PARALLEL}


# -- a real server -----------------------------------------------------------------------


def roost_env(data_dir: Path, database_url: str) -> dict[str, str]:
    # Only this test's settings: none inherited from the developer's shell.
    env = {name: value for name, value in os.environ.items() if not name.startswith("ROOST_")}
    env.update(ROOST_DATA_DIR=str(data_dir), ROOST_DATABASE_URL=database_url)
    return env


def create_key(env: dict[str, str], project: str) -> str:
    done = subprocess.run(
        [ROOST, "keys", "create", "--project", project, "--scopes", "read,write"],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server this test started: SIGTERM, a bounded wait, SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"roost serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"roost serve did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")


@contextmanager
def roost_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``roost serve`` on a free loopback port; yields its base URL and always stops it."""
    port = free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [ROOST, "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    try:
        base_url = f"http://{HOST}:{port}"
        wait_until_healthy(process, base_url, log)
        yield base_url
    finally:
        stop(process)


def test_200_parallel_ingests_over_tcp_to_a_real_server_are_all_counted(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    postgres = request.getfixturevalue("postgres") if dialect == "postgresql" else None
    env = roost_env(tmp_path, new_database_url(dialect, tmp_path, postgres))
    key = create_key(env, "load")
    stat = "tcp.hits"

    async def scenario(base_url: str) -> tuple[list[int], dict[str, Any]]:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
            statuses = await ingest_in_parallel(client, key, stat)
            return statuses, await totals(client, key, stat)

    with roost_server(env, tmp_path / "serve.log") as base_url:
        statuses, found = asyncio.run(scenario(base_url))
    assert statuses == [202] * PARALLEL
    assert found == {"stats": 1, "sum": PARALLEL, "count": PARALLEL}
