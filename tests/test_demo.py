"""The demo data `make serve` seeds: stats, and processes with runs, metrics and an exception."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.domain.times import now_ms
from roost.services import demo
from roost.settings import Settings


@pytest.fixture
def seeded(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path, database_url=fresh_database_url(tmp_path))
    app = create_app(settings)
    with TestClient(app) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        secret = store.write_now(partial(demo.seed, now=now_ms()))
        assert secret is not None
        assert store.write_now(partial(demo.seed, now=now_ms())) is None  # only once
        yield client, {"Authorization": f"Bearer {secret}"}


def test_the_demo_has_a_week_of_stats(seeded: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = seeded
    names = {stat["name"] for stat in client.get("/v1/stats", headers=auth).json()["stats"]}
    assert {"web.requests", "signups", "api.latency_ms", "queue.depth"} <= names


def test_the_demo_has_processes_with_runs_metrics_and_a_failed_night(
    seeded: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = seeded
    found = {
        (item["name"], item["meta"]): item
        for item in client.get("/api/v1/processes", headers=auth).json()["items"]
    }
    sync, etl = found[("hourly-sync", "crm")], found[("nightly-etl", "eu-west")]
    assert sync["run_count"] >= 24 * 6
    assert sync["open_runs"] == 0
    assert 6 <= etl["run_count"] <= 7
    runs = client.get(f"/api/v1/processes/{etl['id']}/runs", headers=auth).json()["items"]
    assert sorted({run["status"] for run in runs}) == ["failed", "ok"]
    assert all(18 * 60_000 <= run["duration_ms"] <= 30 * 60_000 for run in runs)
    [group] = client.get("/api/v1/exceptions", headers=auth).json()["items"]
    assert (group["process"], group["type"]) == ("nightly-etl", "TimeoutError")
    series = client.get(f"/api/v1/processes/{etl['id']}/series", headers=auth).json()["items"]
    assert {"rows_loaded", "model_accuracy"} <= {item["name"] for item in series}
