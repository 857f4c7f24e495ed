"""The real npm ``stathat`` client against a real ``roost serve``, on both databases.

The package is installed from tests/js/package-lock.json by ``npm ci`` (see stathat.py) and
run unchanged; a small Node script re-aims its fixed host at the server on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from roostserver import RunningRoost, create_key, roost_env, roost_server, run_roost
from stathat import dataset, install_js_clients, run_node_client, statlist

OK_BODY = {"status": 200, "msg": "ok"}
ALIAS = "ops@example.com"


@pytest.fixture(scope="module")
def server(
    fresh_database_url: Callable[[Path], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningRoost, str]]:
    install_js_clients()
    tmp = tmp_path_factory.mktemp("stathat-client")
    env = roost_env(tmp, fresh_database_url(tmp))
    key = create_key(env, "node")
    aliased = run_roost(env, "keys", "create", "--project", "node", "--alias", ALIAS)
    assert aliased.returncode == 0, aliased.stderr
    with roost_server(env, tmp / "serve.log") as running:
        yield running, key


def test_the_npm_client_sends_ez_and_classic_counts_and_values(
    server: tuple[RunningRoost, str],
) -> None:
    running, key = server
    hour = int(time.time()) // 3600 * 3600 - 3600
    calls = [
        ["trackEZCount", key, "node ez count", 3],
        ["trackEZCountWithTime", key, "node ez count", 2, hour + 60],
        ["trackEZValue", key, "node ez value", 1.5],
        ["trackEZValueWithTime", key, "node latency~total,api", 20, hour + 120],
        ["trackCount", key, "node classic", 4],
        ["trackCountWithTime", key, "node classic", 1, hour + 60],
        ["trackValue", key, "node classic value", 7.25],
        ["trackValueWithTime", key, "node classic value", 0.75, hour + 60],
        ["trackEZCount", ALIAS, "node alias", 1],
    ]
    results = run_node_client(running.base_url, calls)
    assert [result["status"] for result in results] == [200] * len(calls)
    assert [json.loads(result["body"]) for result in results] == [OK_BODY] * len(calls)

    http = httpx.Client(base_url=running.base_url, timeout=10.0)
    stats = {row["name"]: row for row in statlist(http, key)}
    assert sorted(stats) == [
        "node alias",
        "node classic",
        "node classic value",
        "node ez count",
        "node ez value",
        "node latency api",
        "node latency total",
    ]
    assert stats["node classic"]["classic_key"] == "node classic"
    counters = {name for name, row in stats.items() if row["counter"]}
    assert counters == {"node alias", "node classic", "node ez count"}

    def hour_points(name: str) -> list:
        points = dataset(http, key, stats[name]["id"], "2h1m", hour)
        return [(p["time"] - hour, p["value"]) for p in points if p["value"]]

    assert hour_points("node ez count")[0] == (60, 2)
    assert sum(value for _, value in hour_points("node ez count")) == 5
    assert hour_points("node latency api")[0] == (120, 20)
    assert hour_points("node classic value")[0] == (60, 0.75)
    http.close()


def test_the_npm_client_hears_refusals_in_the_body(server: tuple[RunningRoost, str]) -> None:
    running, key = server
    calls = [
        ["trackEZCount", "nobody@example.com", "x", 1],
        ["trackCount", ALIAS, "x", 1],  # an alias is no ukey
        ["trackEZValue", key, "node ez count", 1],  # a counter already
    ]
    results = run_node_client(running.base_url, calls)
    assert [result["status"] for result in results] == [200, 200, 200]
    bodies = [json.loads(result["body"]) for result in results]
    assert [body["status"] for body in bodies] == [401, 401, 400]
    with httpx.Client(base_url=running.base_url, timeout=10.0) as http:
        assert "x" not in {row["name"] for row in statlist(http, key)}
