"""Importing from StatHat, with another Roost as the source through its own ``/x/`` API.

Every comparison reads both sides through the export API at 1 minute, 1 hour and 1 day, bucket
for bucket, over windows that cover all the source's data. Servers are real ``roost serve``
processes on 127.0.0.1, on the test's database engine; the one killed mid-import is a process
this test started, killed by its handle.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.settings import Settings
from roost.storage import imports as import_store
from roost.storage.store import Store
from roostserver import (
    CLI_TIMEOUT_S,
    RunningRoost,
    create_key,
    roost_command,
    roost_env,
    roost_server,
    run_roost,
    stop,
)
from stathat import dataset, faulty_proxy, import_status, statlist, wait_for_import

DAY, HOUR, MINUTE = 86_400, 3_600, 60
NOW = int(time.time())
RECENT = NOW - NOW % DAY - 2 * DAY  # recent data: from two days before today until now
OLD_DAY = RECENT - 40 * DAY  # and one old day, inside every tier Roost keeps
POINTS_PER_STAT = 300


def source_data() -> list[dict[str, Any]]:
    """Counters and values, recent and 40 days old; the same every run of the module."""
    rng = random.Random(8)
    items: list[dict[str, Any]] = []
    for index in range(12):
        counter = index < 8
        name = f"{'signups' if counter else 'latency'} {index}"
        for point in range(POINTS_PER_STAT):
            if point % 10 == 0:
                t = OLD_DAY + rng.randrange(0, 6 * HOUR)
            else:
                t = RECENT + rng.randrange(0, NOW - 120 - RECENT)
            number = rng.randrange(1, 20) if counter else round(rng.uniform(0.5, 250.0), 3)
            items.append({"stat": name, "count" if counter else "value": number, "t": t})
    items.append({"stat": "emails~sent,bounced", "count": 3, "t": RECENT + HOUR})
    return items


def windows() -> list[tuple[str, str, int]]:
    """(tier, timeframe, start) windows that cover all the source's data at 1d, 1h and 1m."""
    first = OLD_DAY - DAY
    days = (NOW - first) // DAY + 2
    hours = (NOW - first) // HOUR + 2
    recent_minutes = (NOW - RECENT) // MINUTE + 2
    return [
        ("1d", f"{days}d1d", first),
        ("1h", f"{hours}h1h", first),
        ("1m", "1440m1m", OLD_DAY),
        ("1m", f"{recent_minutes}m1m", RECENT),
    ]


def snapshot(http: httpx.Client, token: str) -> dict[str, dict[str, Any]]:
    """Every stat by name: kind, classic key and its buckets over every window."""
    found: dict[str, dict[str, Any]] = {}
    for stat in statlist(http, token):
        found[stat["name"]] = {
            "counter": stat["counter"],
            "classic_key": stat["classic_key"],
            **{
                f"{tier} {start}": dataset(http, token, stat["id"], t, start)
                for tier, t, start in windows()
            },
        }
    return found


def nonzero_buckets(found: dict[str, dict[str, Any]]) -> int:
    """What an import of ``found`` brings: each non-empty bucket of each tier."""
    return sum(
        1
        for stat in found.values()
        for key, points in stat.items()
        if key[:2] in ("1d", "1h", "1m")
        for point in points
        if point["value"] != 0
    )


@dataclass(frozen=True)
class Source:
    server: RunningRoost
    key: str
    snapshot: dict[str, dict[str, Any]]

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def source(
    fresh_database_url: Callable[[Path], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Source]:
    """A Roost holding the source data, read back once as the truth to compare with."""
    tmp = tmp_path_factory.mktemp("stathat-source")
    env = roost_env(tmp, fresh_database_url(tmp))
    key = create_key(env, "stathat-account")
    with roost_server(env, tmp / "serve.log") as server:
        items = source_data()
        with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
            for start in range(0, len(items), 1000):
                body = http.post("/ez", json={"ezkey": key, "data": items[start : start + 1000]})
                assert body.json()["status"] == 200, body.text
            truth = snapshot(http, key)
        assert len(truth) == 14
        yield Source(server, key, truth)


@dataclass(frozen=True)
class Target:
    env: dict[str, str]
    key: str
    log: Path


def new_target(fresh_database_url: Callable[[Path], str], tmp: Path, **settings: str) -> Target:
    env = roost_env(tmp, fresh_database_url(tmp))
    env.update({f"ROOST_{name.upper()}": value for name, value in settings.items()})
    return Target(env, create_key(env, "imported"), tmp / "serve.log")


def start_import(http: httpx.Client, key: str, token: str, base_url: str) -> httpx.Response:
    return http.post(
        "/v1/import/stathat",
        json={"access_token": token, "base_url": base_url},
        headers={"Authorization": f"Bearer {key}"},
    )


def imported(base_url: str, key: str, source_url: str, source_key: str) -> dict[str, Any]:
    """Run one import to its end through the API; its final status."""
    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        started = start_import(http, key, source_key, source_url)
        assert started.status_code == 202, started.text
        assert started.json()["state"] == "queued"
        status = wait_for_import(http, key)
    assert status["id"] == started.json()["id"]
    return status


def hourly_counts(http: httpx.Client, key: str) -> dict[str, Any]:
    """Roost's own view with counts, which an import that added instead of replaced would show."""
    headers = {"Authorization": f"Bearer {key}"}
    stats = http.get("/v1/stats", headers=headers).json()["stats"]
    params = {"from": OLD_DAY - DAY, "to": NOW + HOUR, "resolution": "1h"}
    return {
        stat["name"]: http.get(
            f"/v1/stats/{stat['id']}/data", params=params, headers=headers
        ).json()["points"]
        for stat in stats
    }


# -- the round trip ---------------------------------------------------------------------------


def test_imported_buckets_equal_the_sources_and_importing_again_changes_nothing(
    source: Source, fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    target = new_target(fresh_database_url, tmp_path)
    with roost_server(target.env, target.log) as server:
        first = imported(server.base_url, target.key, source.url, source.key)
        assert first["state"] == "done", first
        assert first["errors"] == []
        assert (first["stats_total"], first["stats_done"]) == (14, 14)
        assert first["points_imported"] == nonzero_buckets(source.snapshot)
        with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
            assert snapshot(http, target.key) == source.snapshot
            counts = hourly_counts(http, target.key)

            second = imported(server.base_url, target.key, source.url, source.key)
            assert second["state"] == "done" and second["id"] == first["id"] + 1
            assert snapshot(http, target.key) == source.snapshot
            assert hourly_counts(http, target.key) == counts

            # Live points sharing an imported bucket stay through another import.
            stat = next(s for s in statlist(http, target.key) if s["name"] == "signups 0")
            minute = next(
                p["time"]
                for p in dataset(http, target.key, stat["id"], "1440m1m", OLD_DAY)
                if p["value"]
            )
            live = {"ezkey": target.key, "stat": "signups 0", "count": 1000, "t": minute + 7}
            assert http.get("/ez", params=live).json()["status"] == 200
            imported(server.base_url, target.key, source.url, source.key)
            after = dataset(http, target.key, stat["id"], "1440m1m", OLD_DAY)
            before = source.snapshot["signups 0"][f"1m {OLD_DAY}"]
            assert [p["value"] for p in after] == [
                p["value"] + (1000 if p["time"] == minute else 0) for p in before
            ]


def test_an_import_killed_mid_job_resumes_after_a_restart_and_is_exact(
    source: Source, fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    target = new_target(fresh_database_url, tmp_path)
    # Slow answers keep the job going long enough to be cut off in the middle.
    with faulty_proxy(source.url, delay=0.08, only="/data/") as proxy:
        with roost_server(target.env, target.log) as server:
            with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
                assert start_import(http, target.key, source.key, proxy.url).status_code == 202
                # Past the first batch of stats imported side by side (PARALLEL_STATS).
                cut = wait_for_import(http, target.key, until=lambda s: s["stats_done"] >= 5)
            assert cut["state"] == "running" and cut["stats_done"] < cut["stats_total"]
            server.process.kill()  # SIGKILL, by the handle of the process started above
            server.process.wait(timeout=15)
        requests_before = len(proxy.seen)
        with (
            roost_server(target.env, target.log) as server,
            httpx.Client(base_url=server.base_url, timeout=30.0) as http,
        ):
            done = wait_for_import(http, target.key)
            assert done["state"] == "done", done
            assert done["id"] == cut["id"] and done["errors"] == []
            assert (done["stats_done"], done["stats_total"]) == (14, 14)
            # Nothing counted twice, nothing skipped.
            assert done["points_imported"] == nonzero_buckets(source.snapshot)
            assert snapshot(http, target.key) == source.snapshot
    # The restarted job went on from its last commit instead of starting over: it neither
    # listed the stats again nor asked again for the first stat, done before the kill.
    after = [path for path, _ in proxy.seen[requests_before:]]
    with httpx.Client(base_url=source.url, timeout=30.0) as http:
        first_id = statlist(http, source.key)[0]["id"]
    assert after and not [path for path in after if "/statlist" in path]
    assert not [path for path in after if f"/data/{first_id}?" in path]


def test_a_failing_or_slow_source_is_retried_with_backoff_then_gives_up_clearly(
    source: Source, fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    target = new_target(
        fresh_database_url,
        tmp_path,
        stathat_import_timeout_seconds="1",
        stathat_import_attempts="3",
    )
    with roost_server(target.env, target.log) as server:
        with faulty_proxy(source.url, fail=2, only="/statlist") as proxy:
            status = imported(server.base_url, target.key, proxy.url, source.key)
            assert status["state"] == "done", status
            assert [code for path, code in proxy.seen if "/statlist" in path] == [503, 503, 200]
        with faulty_proxy(source.url, hang=1, hang_seconds=2.0, only="/data/") as proxy:
            status = imported(server.base_url, target.key, proxy.url, source.key)
            assert status["state"] == "done" and status["errors"] == [], status
        with faulty_proxy(source.url, fail=3, only="/statlist") as proxy:
            status = imported(server.base_url, target.key, proxy.url, source.key)
        assert status["state"] == "failed"
        assert status["errors"] == [
            f"the StatHat source {proxy.url} answered HTTP 503, 3 tries in a row"
        ]
        with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
            assert snapshot(http, target.key) == source.snapshot


# -- the API, in process ----------------------------------------------------------------------


def test_a_bad_token_fails_the_job_with_a_clear_error_and_keeps_no_token(
    client: TestClient, store: Store, source: Source
) -> None:
    tenant = make_tenant(store)
    started = start_import(client, tenant.key, "not-the-token", source.url)
    assert started.status_code == 202
    status = wait_for_import(client, tenant.key)
    assert status["state"] == "failed"
    assert status["errors"] == [
        f"the StatHat source {source.url} refused the access token (HTTP 401: invalid access token)"
    ]
    assert status["stats_total"] == 0 and status["finished_at"] is not None
    with store.read() as conn:
        row = import_store.get_import(conn, project_id=tenant.project_id, import_id=status["id"])
    assert row is not None and row.access_token is None


def test_import_requests_are_checked(client: TestClient, store: Store, source: Source) -> None:
    tenant = make_tenant(store)
    assert client.get("/v1/import/stathat/status", headers=tenant.headers).status_code == 404
    for body, field in (
        ({}, "access_token"),
        ({"access_token": "a b"}, "access_token"),
        ({"access_token": "t", "base_url": "ftp://example.com"}, "base_url"),
        ({"access_token": "t", "base_url": "http://x/?q=1"}, "base_url"),
        ({"access_token": 5}, "access_token"),
    ):
        refused = client.post("/v1/import/stathat", json=body, headers=tenant.headers)
        assert refused.status_code == 422, body
        assert refused.json()["field"] == field
    reader = {"Authorization": f"Bearer {add_key(store, tenant, 'read')}"}
    body = {"access_token": source.key, "base_url": source.url}
    assert client.post("/v1/import/stathat", json=body, headers=reader).status_code == 403
    assert client.post("/v1/import/stathat", json=body).status_code == 401


def test_one_import_at_a_time_per_project(client: TestClient, store: Store, source: Source) -> None:
    tenant = make_tenant(store)
    with faulty_proxy(source.url, delay=0.5, only="/statlist") as proxy:
        first = start_import(client, tenant.key, source.key, proxy.url)
        assert first.status_code == 202
        second = start_import(client, tenant.key, source.key, proxy.url)
        assert second.status_code == 409
        assert second.json() == {"error": f"import {first.json()['id']} is still queued"} or (
            second.json() == {"error": f"import {first.json()['id']} is still running"}
        )
        assert wait_for_import(client, tenant.key)["state"] == "done"
    other = import_status(client, make_tenant(store).key)
    assert other is None  # another project sees no import


# -- the command line -------------------------------------------------------------------------


def cli_env(settings: Settings) -> dict[str, str]:
    return roost_env(settings.data_dir, settings.database_url)


def assert_same_as_source(client: TestClient, tenant: Tenant, source: Source) -> None:
    assert snapshot(client, tenant.key) == source.snapshot


def test_the_cli_imports_in_the_foreground_and_resumes_after_being_killed(
    client: TestClient, store: Store, settings: Settings, source: Source
) -> None:
    tenant = make_tenant(store)
    env = cli_env(settings)
    args = ["import", "stathat", "--project", tenant.project, "--token", source.key]
    with faulty_proxy(source.url, delay=0.08, only="/data/") as proxy:
        process = subprocess.Popen(
            [*roost_command(), *args, "--base-url", proxy.url],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            cut = wait_for_import(client, tenant.key, until=lambda s: s["stats_done"] >= 3)
        finally:
            process.kill()  # SIGKILL, by the handle of the process started above
            stop(process)
        assert cut["state"] == "running"
        done = run_roost(env, *args, "--base-url", proxy.url)
    assert done.returncode == 0, done.stderr
    assert "done: 14 of 14 stats" in done.stderr
    status = import_status(client, tenant.key)
    assert status is not None and status["id"] == cut["id"] and status["state"] == "done"
    assert status["points_imported"] == nonzero_buckets(source.snapshot)
    assert_same_as_source(client, tenant, source)

    again = run_roost(env, *args, "--base-url", source.url)
    assert again.returncode == 0, again.stderr
    assert_same_as_source(client, tenant, source)


def test_the_cli_fails_with_a_clear_message_on_a_bad_token(
    settings: Settings, source: Source
) -> None:
    done = subprocess.run(
        [
            *roost_command(),
            *("import", "stathat", "--project", "cli-bad-token", "--token", "wrong"),
            *("--base-url", source.url),
        ],
        env=cli_env(settings),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert done.returncode == 1
    assert "refused the access token" in done.stderr
    assert "failed" in done.stderr
