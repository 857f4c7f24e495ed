"""StatHat figures: import speed (points per second) and ``/ez`` ingest (requests per second).

    python bench/stathat.py                 # prints the figures as JSON
    python bench/stathat.py --stats 10 --days 2 --ez-seconds 3

For ``bench/run.py``::

    from stathat import StatHatBenchError, measure_stathat
    figures = measure_stathat(work_dir)     # a fresh temporary directory; raises
                                            # StatHatBenchError when something broke

The import phase starts two ``roost serve`` (SQLite, default settings) on free ports of
127.0.0.1: a source holding ``stats`` stats with a point every minute for ``days`` days, and
an empty target. It times ``POST /v1/import/stathat`` on the target until the job is done, and
checks that the target's minute buckets equal the source's for one stat. Points per second =
the job's ``points_imported`` (non-empty buckets at 1d, 1h and 1m) / wall time.

The ``/ez`` phase points wrk (when installed) at the target for ``ez_seconds``: GET
``/ez?ezkey=…&stat=…&count=1``, as the Ruby client sends it; it fails on any non-2xx answer.

Every process started here is stopped by its PID; traffic goes to 127.0.0.1 only; every wait
is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
READY_TIMEOUT_S = 30.0
IMPORT_TIMEOUT_S = 120.0
BULK_ITEMS = 1000
WRK_CONNECTIONS = 64
WRK_THREADS = 2


class StatHatBenchError(RuntimeError):
    """Something broke: a server did not start, the import failed or was not exact."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _roost() -> list[str]:
    script = Path(sys.executable).with_name("roost")
    return [str(script)] if script.exists() else [sys.executable, "-m", "roost.cli.main"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATA_DIR"] = str(data_dir)
    return env


def _key(env: dict[str, str], project: str) -> str:
    done = subprocess.run(
        [*_roost(), "keys", "create", "--project", project],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@contextlib.contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[str]:
    """``roost serve`` on a free port; stopped by its PID (its own process group) at exit."""
    port = _free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_roost(), "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise StatHatBenchError(f"roost serve exited early:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise StatHatBenchError(f"roost serve not ready:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=wait_s)


def _load_source(url: str, key: str, stats: int, days: int, now: int) -> int:
    """A point every minute for ``days`` days in each stat (counters and values alternate)."""
    start = now - now % 60 - days * 86_400
    items: list[dict[str, Any]] = []
    for index in range(stats):
        counter = index % 2 == 0
        name = f"bench.stat.{index:03d}"
        for minute in range(days * 1440):
            number = 1 + minute % 7 if counter else 10.0 + (minute % 13) / 4
            items.append({"stat": name, "count" if counter else "value": number})
            items[-1]["t"] = start + minute * 60 + 17
    with httpx.Client(base_url=url, timeout=60.0) as http:
        for first in range(0, len(items), BULK_ITEMS):
            answer = http.post(
                "/ez", json={"ezkey": key, "data": items[first : first + BULK_ITEMS]}
            )
            body = answer.json()
            if body.get("status") != 200:
                raise StatHatBenchError(f"loading the source failed: {body}")
    return len(items)


def _import(target: str, key: str, source: str, token: str) -> tuple[dict[str, Any], float]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=target, timeout=30.0, headers=headers) as http:
        started = time.perf_counter()
        answer = http.post("/v1/import/stathat", json={"access_token": token, "base_url": source})
        if answer.status_code != 202:
            raise StatHatBenchError(f"the import did not start: {answer.status_code} {answer.text}")
        deadline = started + IMPORT_TIMEOUT_S
        while time.perf_counter() < deadline:
            status = http.get("/v1/import/stathat/status").json()
            if status["state"] in ("done", "failed"):
                return status, time.perf_counter() - started
            time.sleep(0.02)
    raise StatHatBenchError(f"the import took longer than {IMPORT_TIMEOUT_S} s")


def _check_minutes(source: str, token: str, target: str, key: str, days: int, now: int) -> None:
    """One stat's minute buckets, source against target: the figure is only worth an exact copy."""
    start = now - now % 60 - days * 86_400
    found = []
    for url, secret in ((source, token), (target, key)):
        listed = httpx.get(f"{url}/x/{secret}/statlist", timeout=30.0).json()
        stat = next(row for row in listed if row["name"] == "bench.stat.001")
        frame: dict[str, str | int] = {"t": f"{min(days * 1440, 10_000)}m1m", "start": start}
        found.append(
            httpx.get(f"{url}/x/{secret}/data/{stat['id']}", params=frame, timeout=30.0).json()
        )
    if found[0] != found[1]:
        raise StatHatBenchError("the imported minute buckets differ from the source's")


def _wrk_ez(url: str, key: str, seconds: float) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    target = f"{url}/ez?ezkey={key}&stat=bench.ez&count=1"
    done = subprocess.run(
        [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{max(1, round(seconds))}s", target],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if rate is None or "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise StatHatBenchError(f"wrk against /ez saw errors:\n{done.stdout}")
    return {
        "requests_per_s": round(float(rate.group(1))),
        "seconds": seconds,
        "connections": WRK_CONNECTIONS,
    }


def measure_stathat(
    work_dir: Path, *, stats: int = 20, days: int = 3, ez_seconds: float = 5.0
) -> dict[str, Any]:
    """Import points/s from a local source, and /ez req/s (None without wrk)."""
    now = int(time.time())
    work_dir.mkdir(parents=True, exist_ok=True)
    source_env, target_env = _env(work_dir / "source"), _env(work_dir / "target")
    token, key = _key(source_env, "bench-source"), _key(target_env, "bench-target")
    with (
        _server(source_env, work_dir / "source.log") as source,
        _server(target_env, work_dir / "target.log") as target,
    ):
        loaded = _load_source(source, token, stats, days, now)
        status, seconds = _import(target, key, source, token)
        if status["state"] != "done" or status["errors"]:
            raise StatHatBenchError(f"the import failed: {status}")
        _check_minutes(source, token, target, key, days, now)
        ez = _wrk_ez(target, key, ez_seconds) if ez_seconds > 0 else None
    return {
        "import": {
            "stats": stats,
            "source_points": loaded,
            "points_imported": status["points_imported"],
            "seconds": round(seconds, 3),
            "points_per_s": round(status["points_imported"] / seconds),
        },
        "ez": ez,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stats", type=int, default=20)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--ez-seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roost-bench-stathat-") as tmp:
        figures = measure_stathat(
            Path(tmp), stats=args.stats, days=args.days, ez_seconds=args.ez_seconds
        )
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
