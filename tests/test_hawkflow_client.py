"""The real ``hawkflow`` client from PyPI, unmodified, against a real ``roost serve``.

The client hard-codes its base URL in the module constant
``hawkflowclient.hawkflow_api._hawkflow_api_url``; the tests point it at a server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hawkflowclient import hawkflow_api
from hawkflowclient.hawkflow_api import HawkflowAPI
from hawkflowclient.hawkflow_decorators import HawkflowException, HawkflowMetrics, HawkflowTimed

from roostserver import RunningRoost, create_key, roost_env, roost_server


@pytest.fixture(scope="module")
def server(
    fresh_database_url: Callable[[Path], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningRoost, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("hawkflow-client")
    env = roost_env(folder, fresh_database_url(folder))
    with roost_server(env, folder / "roost.log") as running:
        yield running, env


@pytest.fixture
def key(
    server: tuple[RunningRoost, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    running, env = server
    monkeypatch.setattr(hawkflow_api, "_hawkflow_api_url", f"{running.base_url}/v1")
    # requests honours proxy variables; the traffic must go straight to 127.0.0.1.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    yield create_key(env, f"client-{id(monkeypatch)}", "read,write")


def read(server: tuple[RunningRoost, dict[str, str]], key: str, path: str) -> Any:
    response = httpx.get(
        f"{server[0].base_url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def process_named(
    server: tuple[RunningRoost, dict[str, str]], key: str, name: str, meta: str = ""
) -> dict[str, Any]:
    items = read(server, key, "/api/v1/processes")["items"]
    return next(item for item in items if (item["name"], item["meta"]) == (name, meta))


def test_start_and_end_record_one_run_with_its_info(
    server: tuple[RunningRoost, dict[str, str]], key: str
) -> None:
    api = HawkflowAPI(key)
    assert api.start("proc one", meta="metax").status_code == 201
    assert api.end("proc one", meta="metax", info="some info").status_code == 201
    found = process_named(server, key, "proc one", "metax")
    assert found["run_count"] == 1
    run = found["last_run"]
    assert (run["status"], run["info"]) == ("ok", "some info")
    assert run["duration_ms"] >= 0


def test_uid_separates_concurrent_runs(
    server: tuple[RunningRoost, dict[str, str]], key: str
) -> None:
    api = HawkflowAPI(key)
    api.start("p2", uid="u-1")
    api.start("p2", uid="u-2")
    api.end("p2", uid="u-1")
    found = process_named(server, key, "p2")
    runs = read(server, key, f"/api/v1/processes/{found['id']}/runs")["items"]
    assert {(run["uid"], run["status"]) for run in runs} == {("u-1", "ok"), ("u-2", "running")}


def test_metrics_as_a_map_and_as_a_dataframe_dict(
    server: tuple[RunningRoost, dict[str, str]], key: str
) -> None:
    api = HawkflowAPI(key)
    assert api.metrics("p3", meta="m", items={"acc": 0.9, "n": 3}).status_code == 201
    frame = {"col1": {"a": 1}, "col2": {"a": 2}}
    assert api.metrics("p4", items=frame, df=1).status_code == 201
    p3 = process_named(server, key, "p3", "m")
    series = read(server, key, f"/api/v1/processes/{p3['id']}/series")["items"]
    values = {item["name"]: item["last_value"] for item in series if item["role"] == "metric"}
    assert values == {"acc": 0.9, "n": 3}
    p4 = process_named(server, key, "p4")
    series = read(server, key, f"/api/v1/processes/{p4['id']}/series")["items"]
    assert {item["name"] for item in series if item["role"] == "metric"} == {"col1.a", "col2.a"}


def test_exception_is_grouped(server: tuple[RunningRoost, dict[str, str]], key: str) -> None:
    api = HawkflowAPI(key)
    assert api.exception("p5", exception_text="ValueError: bad").status_code == 201
    groups = read(server, key, "/api/v1/exceptions")["items"]
    assert [(group["process"], group["type"]) for group in groups] == [("p5", "ValueError")]


def test_the_decorators_time_report_metrics_and_catch(
    server: tuple[RunningRoost, dict[str, str]], key: str
) -> None:
    @HawkflowTimed(api_key=key)
    def nightly_load(hawkflow_meta: str = "") -> str:
        return "loaded"

    @HawkflowMetrics(api_key=key)
    def score(items: dict[str, float], hawkflow_meta: str = "") -> float:
        return sum(items.values())

    @HawkflowException(api_key=key)
    def divide(hawkflow_meta: str = "") -> float:
        return 1 / 0

    assert nightly_load(hawkflow_meta="eu") == "loaded"
    assert score(items={"precision": 0.5, "recall": 0.25}, hawkflow_meta="eu") == 0.75
    assert divide(hawkflow_meta="eu") is None  # the decorator swallows and reports it

    timed = process_named(server, key, "nightly_load", "eu")
    assert timed["last_run"]["status"] == "ok"
    scored = process_named(server, key, "score", "eu")
    series = read(server, key, f"/api/v1/processes/{scored['id']}/series")["items"]
    assert {item["name"] for item in series if item["role"] == "metric"} == {
        "precision",
        "recall",
    }
    [group] = [
        g for g in read(server, key, "/api/v1/exceptions")["items"] if g["process"] == "divide"
    ]
    assert group["type"] == "ZeroDivisionError"
    detail = read(server, key, f"/api/v1/exceptions/{group['id']}")
    assert "return 1 / 0" in detail["latest"]["text"]
