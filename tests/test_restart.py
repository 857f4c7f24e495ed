"""Acknowledged data survives a restart: ingest, SIGTERM, start again, every point is there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import new_database_url

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
ROOST = Path(sys.executable).with_name("roost")
HOST = "127.0.0.1"
DAY_START = 1_700_006_400  # 2023-11-15T00:00:00Z
POINTS = 60


def roost_env(data_dir: Path, database_url: str) -> dict[str, str]:
    # Only this test's settings: none inherited from the developer's shell.
    env = {name: value for name, value in os.environ.items() if not name.startswith("ROOST_")}
    env.update(ROOST_DATA_DIR=str(data_dir), ROOST_DATABASE_URL=database_url)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


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
def roost_server(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``roost serve`` on a free loopback port; killed at exit if the test has not stopped it."""
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
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


def terminate(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as a service manager sends it; returns the exit status."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
        pytest.fail(f"roost serve ignored SIGTERM for {STOP_TIMEOUT_S} s")


def snapshot(base_url: str, key: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
        stats = client.get("/v1/stats").json()["stats"]
        data = {
            row["name"]: client.get(
                f"/v1/stats/{row['id']}/data",
                params={"from": DAY_START, "to": DAY_START + 3600, "resolution": "1m"},
            ).json()["points"]
            for row in stats
        }
    return {"stats": sorted(stats, key=lambda row: row["name"]), "data": data}


def test_points_acknowledged_before_sigterm_are_all_there_after_a_restart(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    postgres = request.getfixturevalue("postgres") if dialect == "postgresql" else None
    env = roost_env(tmp_path, new_database_url(dialect, tmp_path, postgres))
    created = subprocess.run(
        [ROOST, "keys", "create", "--project", "restart", "--scopes", "read,write"],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=True,
    )
    key = created.stdout.strip()
    log = tmp_path / "serve.log"

    with roost_server(env, log) as (process, base_url):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
            for minute in range(POINTS):
                # The last point is acknowledged just before the signal arrives.
                for stat, kind in (("jobs.done", "counter"), ("queue.depth", "value")):
                    body = {
                        "stat": stat,
                        "type": kind,
                        "value": minute,
                        "t": DAY_START + minute * 60,
                    }
                    assert client.post("/v1/ingest", json=body).status_code == 202
        before = snapshot(base_url, key)
        status = terminate(process)
    # A clean shutdown: exit 0, or the SIGTERM re-raised after a graceful stop.
    assert status in (0, -signal.SIGTERM), log.read_text()

    with roost_server(env, log) as (process, base_url):
        after = snapshot(base_url, key)
        assert terminate(process) in (0, -signal.SIGTERM)

    assert after == before
    assert [row["name"] for row in after["stats"]] == ["jobs.done", "queue.depth"]
    assert [point["value"] for point in after["data"]["jobs.done"]] == list(range(POINTS))
    assert [point["count"] for point in after["data"]["queue.depth"]] == [1] * POINTS
    assert after["stats"][0]["last_value"] == POINTS - 1
