"""Acknowledged data survives a restart: ingest, SIGTERM, start again, every point is there."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from roostserver import create_key, roost_env, roost_server, stop

DAY_START = 1_700_006_400  # 2023-11-15T00:00:00Z
POINTS = 60
CLEAN_EXIT = (0, -signal.SIGTERM)


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
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    env = roost_env(tmp_path, fresh_database_url(tmp_path))
    key = create_key(env, "restart")
    log = tmp_path / "serve.log"

    with roost_server(env, log) as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0) as client:
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
        before = snapshot(server.base_url, key)
        status = stop(server.process)
    # A clean shutdown: exit 0, or the SIGTERM re-raised after a graceful stop (-SIGKILL: it
    # ignored the SIGTERM and had to be killed).
    assert status in CLEAN_EXIT, log.read_text()

    with roost_server(env, log) as server:
        after = snapshot(server.base_url, key)
        assert stop(server.process) in CLEAN_EXIT, log.read_text()

    assert after == before
    assert [row["name"] for row in after["stats"]] == ["jobs.done", "queue.depth"]
    assert [point["value"] for point in after["data"]["jobs.done"]] == list(range(POINTS))
    assert [point["count"] for point in after["data"]["queue.depth"]] == [1] * POINTS
    assert after["stats"][0]["last_value"] == POINTS - 1
