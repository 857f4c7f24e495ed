"""Web app speed in Chromium: a stat page over 30 days of 10-second points, a dashboard of 12
charts, the JavaScript and CSS the pages send, a process page with 100,000 runs stored and a
session page with a 2,000-event tree.

Starts its own ``roost serve`` (SQLite, a temporary data directory) on 127.0.0.1, makes a user
and a project in-process, loads the points through the batch ingest API, then drives Debian's
Chromium (``/usr/bin/chromium``, headless, through Playwright) signed in as that user. A page's
time is from the start of navigation to the last of its charts drawn (``data-drawn-at``, set
by app.js after uPlot draws), median of ``--runs`` loads after one warm-up load.

    .venv/bin/python bench/web.py            # or as the "web" phase of bench/run.py
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
EMAIL = "bench@example.com"
PASSWORD = "bench-password"
DAY_S = 86_400
SPAN_S = 30 * DAY_S
FINE_STEP_S = 10  # the stat page's series: 259,200 points
PANEL_STEP_S = 300  # the dashboard's other 11 stats: 8,640 points each
PANELS = 12
BATCH = 1000
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
PAGE_TIMEOUT_MS = 20_000

STAT_TARGET_MS = 300.0
DASHBOARD_TARGET_MS = 1000.0
ASSETS_TARGET_KB = 150.0
PROCESS_TARGET_MS = 300.0
SESSION_TARGET_MS = 500.0
STORED_RUNS = 100_000
LIVE_RUNS = 300  # sent through /v1/start and /v1/end, so the duration chart has points
SESSION_CHAINS = 40
SESSION_EVENTS = 2000


class WebBenchError(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _roost(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "roost"
    return (
        [str(script), *args] if script.exists() else [sys.executable, "-m", "roost.cli.main", *args]
    )


def _prepare(data_dir: Path) -> tuple[str, int]:
    """The bench's project, owner and key, written before the server starts; (key, project)."""
    from roost.domain import keys as key_rules
    from roost.domain.times import now_ms
    from roost.services import access, users
    from roost.settings import Settings
    from roost.storage.store import Store

    store = Store(Settings(data_dir=data_dir))
    store.upgrade()
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        project = access.ensure_project(tx, name="bench-web", now=now)
        key = access.create_key(
            tx,
            project_id=project.id,
            name="bench",
            scopes=key_rules.parse_scopes("read,write"),
            now=now,
        )
        users.create_user(tx, email=EMAIL, password=PASSWORD, now=now)
        users.grant(tx, email=EMAIL, project_id=project.id, role="owner", now=now)
        return key.secret, project.id

    try:
        secret, project_id = store.write_now(job)
    finally:
        store.read_engine.dispose()
        store.write_engine.dispose()
    return secret, project_id


def _store_runs(data_dir: Path, project_id: int) -> None:
    """100,000 closed runs of the process "bench-etl", written before the server starts
    (through the API it would take minutes; the page reads them the same way)."""
    from sqlalchemy import insert

    from roost.domain.processes import ProcessKey
    from roost.domain.times import now_ms
    from roost.services import processes
    from roost.settings import Settings
    from roost.storage import dialects
    from roost.storage.schema import runs
    from roost.storage.store import Store

    store = Store(Settings(data_dir=data_dir))
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        process = processes.process_for(tx, project_id, ProcessKey("bench-etl", ""), now)
        ids = dialects.reserve_ids(tx.conn, "runs", STORED_RUNS)
        rows = []
        for index in range(STORED_RUNS):
            started = now - (STORED_RUNS - index) * 60_000 - 30 * DAY_S * 1000
            took = 1000 + (index * 37) % 20_000
            rows.append(
                {
                    "project_id": project_id,
                    "id": ids[index],
                    "process_id": process.id,
                    "uid": f"r{index}",
                    "status": "failed" if index % 50 == 0 else "ok",
                    "started_at": started,
                    "ended_at": started + took,
                    "duration_ms": took,
                    "info": None,
                    "exception_count": 0,
                    "seen_at": started,
                }
            )
        for start in range(0, len(rows), 5000):
            tx.conn.execute(insert(runs), rows[start : start + 5000])

    try:
        store.write_now(job)
    finally:
        store.read_engine.dispose()
        store.write_engine.dispose()


async def _live_runs(base_url: str, key: str) -> int:
    """Runs through the HawkFlow API; the process's id."""
    headers = {"x-hawkflow-api-key": key}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        for index in range(LIVE_RUNS):
            for path in ("/v1/start", "/v1/end"):
                sent = await client.post(path, json={"process": "bench-etl", "uid": f"l{index}"})
                if sent.status_code != 201:
                    raise WebBenchError(f"{path} answered {sent.status_code}")
        listed = await client.get(
            "/api/v1/processes?name=bench-etl", headers={"Authorization": f"Bearer {key}"}
        )
    return int(listed.json()["items"][0]["id"])


def _big_session(base_url: str, key: str) -> str:
    """A session of 2,000 events: 40 chains under the session, 49 events under each."""
    import uuid

    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
        started = http.post(
            "/session/start", json={"session": {"session_name": "bench-session"}}
        ).json()
        session_id = str(started["session_id"])
        base_ms = time.time() * 1000
        events: list[dict[str, Any]] = []
        per_chain = SESSION_EVENTS // SESSION_CHAINS - 1
        for chain in range(SESSION_CHAINS):
            chain_id = str(uuid.uuid4())
            events.append(
                {
                    "event_id": chain_id,
                    "session_id": session_id,
                    "parent_id": session_id,
                    "event_type": "chain",
                    "event_name": f"step {chain}",
                    "inputs": {"step": chain},
                    "start_time": base_ms + chain * 1000,
                    "end_time": base_ms + chain * 1000 + 900,
                }
            )
            for child in range(per_chain):
                events.append(
                    {
                        "session_id": session_id,
                        "parent_id": chain_id,
                        "event_type": "model" if child % 3 == 0 else "tool",
                        "event_name": f"call {child}",
                        "inputs": {"prompt": "word " * 40},
                        "outputs": {"text": "answer " * 30},
                        "config": {"model": "bench-model"},
                        "start_time": base_ms + chain * 1000 + child * 15,
                        "end_time": base_ms + chain * 1000 + child * 15 + 12,
                    }
                )
        sent = http.post("/events/batch", json={"events": events})
        if sent.status_code != 200:
            raise WebBenchError(f"/events/batch answered {sent.status_code}: {sent.text[:200]}")
    return session_id


def _loaded_ms(page: Any, url: str) -> float:
    """Navigation start to the load event (a page without charts)."""
    page.goto(url)
    timing = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    return float(timing)


async def _load(base_url: str, key: str, stat: str, step_s: int, now_s: int) -> None:
    count = SPAN_S // step_s
    first_s = now_s - SPAN_S + step_s
    sem = asyncio.Semaphore(4)
    failures: list[str] = []

    async def send(client: httpx.AsyncClient, first: int) -> None:
        items = [
            {
                "stat": stat,
                "type": "value",
                "t": first_s + i * step_s,
                "value": float(50 + (i * 7) % 40),
            }
            for i in range(first, min(first + BATCH, count))
        ]
        async with sem:
            answer = await client.post("/v1/ingest/batch", json={"items": items})
        if answer.status_code != 202:
            failures.append(f"{answer.status_code} {answer.text[:200]}")

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        await asyncio.gather(*(send(client, first) for first in range(0, count, BATCH)))
    if failures:
        raise WebBenchError(f"loading {stat} failed {len(failures)}x: {failures[0]}")


def _stat_ids(base_url: str, key: str) -> dict[str, int]:
    listed = httpx.get(
        f"{base_url}/v1/stats", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    return {item["name"]: int(item["id"]) for item in listed.json()["stats"]}


def _make_dashboard(data_dir: Path, project_id: int, stat_ids: list[int]) -> int:
    from roost.domain.times import now_ms
    from roost.services import dashboards
    from roost.settings import Settings
    from roost.storage.store import Store

    store = Store(Settings(data_dir=data_dir))
    try:
        made = store.write_now(
            partial(
                dashboards.create_dashboard,
                project_id=project_id,
                name="Twelve charts",
                panels=[dashboards.PanelSpec(stat_id) for stat_id in stat_ids],
                now=now_ms(),
            )
        )
    finally:
        store.read_engine.dispose()
        store.write_engine.dispose()
    return int(made.id)


def _asset_bytes(base_url: str, html: str) -> dict[str, Any]:
    """Bytes of every script and stylesheet the page links, as sent (gzip) and unpacked."""
    import re

    urls = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+\.(?:js|css)[^"]*)"', html)
    sent = unpacked = 0
    with httpx.Client(base_url=base_url, timeout=30, headers={"Accept-Encoding": "gzip"}) as http:
        for url in urls:
            with http.stream("GET", url) as answer:
                raw = b"".join(answer.iter_raw())
                if answer.headers.get("content-encoding") != "gzip":  # count what gzip would send
                    raw = gzip.compress(raw)
            sent += len(raw)
            unpacked += len(gzip.decompress(raw))
    return {"files": len(urls), "gzip_kb": sent / 1024, "raw_kb": unpacked / 1024}


def _page_ms(page: Any, url: str, charts: int) -> float:
    from playwright.sync_api import expect

    page.goto(url)
    # A locator wait, not wait_for_function: the page's CSP forbids the eval that needs.
    expect(page.locator("[data-chart][data-drawn-at]")).to_have_count(
        charts, timeout=PAGE_TIMEOUT_MS
    )
    times = page.eval_on_selector_all(
        "[data-chart]", "els => els.map(e => Number(e.dataset.drawnAt))"
    )
    return float(max(times))


def measure(data_dir: Path, runs: int = 7, *, telemetry_only: bool = False) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    data_dir.mkdir(parents=True, exist_ok=True)
    key, project_id = _prepare(data_dir)
    _store_runs(data_dir, project_id)
    port = _free_port()
    base_url = f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATA_DIR"] = str(data_dir)
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        _roost("serve", "--host", HOST, "--port", str(port)), env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise WebBenchError("roost serve did not start")
            time.sleep(0.1)
        now_s = int(time.time())
        started = time.perf_counter()
        if not telemetry_only:
            asyncio.run(_load(base_url, key, "fine.latency", FINE_STEP_S, now_s))
            for index in range(1, PANELS):
                asyncio.run(_load(base_url, key, f"panel.{index:02d}", PANEL_STEP_S, now_s))
        process_id = asyncio.run(_live_runs(base_url, key))
        session_id = _big_session(base_url, key)
        load_s = time.perf_counter() - started
        ids = _stat_ids(base_url, key)
        board = (
            0
            if telemetry_only
            else _make_dashboard(
                data_dir,
                project_id,
                [ids["fine.latency"], *(ids[f"panel.{i:02d}"] for i in range(1, PANELS))],
            )
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.goto(f"{base_url}/login")
                page.fill("#email", EMAIL)
                page.fill("#password", PASSWORD)
                page.click("form[action='/login'] button[type=submit]")
                page.wait_for_url(f"{base_url}/")
                process_url = f"{base_url}/processes/{process_id}"
                _page_ms(page, process_url, 1)  # warm-up: caches, first imports
                process = [_page_ms(page, process_url, 1) for _ in range(runs)]
                session_url = f"{base_url}/sessions/{session_id}"
                _loaded_ms(page, session_url)
                session = [_loaded_ms(page, session_url) for _ in range(runs)]
                stat, dash = [0.0], [0.0]
                if not telemetry_only:
                    stat_url = f"{base_url}/stats/{ids['fine.latency']}?range=30d"
                    board_url = f"{base_url}/dashboards/{board}?range=30d"
                    _page_ms(page, stat_url, 1)
                    stat = [_page_ms(page, stat_url, 1) for _ in range(runs)]
                    _page_ms(page, board_url, PANELS)
                    dash = [_page_ms(page, board_url, PANELS) for _ in range(runs)]
                assets = _asset_bytes(base_url, page.content())
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(STOP_TIMEOUT_S)
        log.close()
    stat_ms, dash_ms = statistics.median(stat), statistics.median(dash)
    process_ms, session_ms = statistics.median(process), statistics.median(session)
    return {
        "process_page_ms": {
            "runs_stored": STORED_RUNS + LIVE_RUNS,
            "median": process_ms,
            "runs": process,
            "target": PROCESS_TARGET_MS,
            "met": process_ms < PROCESS_TARGET_MS,
        },
        "session_page_ms": {
            "events": SESSION_EVENTS,
            "median": session_ms,
            "runs": session,
            "target": SESSION_TARGET_MS,
            "met": session_ms < SESSION_TARGET_MS,
        },
        "points_loaded": SPAN_S // FINE_STEP_S + (PANELS - 1) * (SPAN_S // PANEL_STEP_S),
        "load_s": load_s,
        "stat_page_ms": {
            "median": stat_ms,
            "runs": stat,
            "target": STAT_TARGET_MS,
            "met": stat_ms < STAT_TARGET_MS,
        },
        "dashboard_ms": {
            "median": dash_ms,
            "runs": dash,
            "target": DASHBOARD_TARGET_MS,
            "met": dash_ms < DASHBOARD_TARGET_MS,
        },
        "assets": {
            **assets,
            "target_kb": ASSETS_TARGET_KB,
            "met": assets["gzip_kb"] < ASSETS_TARGET_KB,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7, help="timed loads per page (7)")
    parser.add_argument(
        "--telemetry-only",
        action="store_true",
        help="only the process and session pages (skips loading the stats' points)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roost-bench-web-") as tmp:
        found = measure(
            Path(tmp), runs=min(max(args.runs, 1), 50), telemetry_only=args.telemetry_only
        )
    print(json.dumps(found, indent=2))
    names = ["process_page_ms", "session_page_ms"]
    process, session = found["process_page_ms"]["median"], found["session_page_ms"]["median"]
    print(f"process page, {STORED_RUNS:,} runs stored: {process:.0f} ms (< {PROCESS_TARGET_MS:g})")
    print(f"session page, {SESSION_EVENTS:,} events: {session:.0f} ms (< {SESSION_TARGET_MS:g})")
    if not args.telemetry_only:
        names += ["stat_page_ms", "dashboard_ms", "assets"]
        stat, board = found["stat_page_ms"]["median"], found["dashboard_ms"]["median"]
        print(f"stat page, 30 days of 10 s points: {stat:.0f} ms (< {STAT_TARGET_MS:g})")
        print(f"dashboard of {PANELS} charts: {board:.0f} ms (< {DASHBOARD_TARGET_MS:g})")
        assets_kb = found["assets"]["gzip_kb"]
        print(f"JS + CSS sent: {assets_kb:.1f} KB gzipped (< {ASSETS_TARGET_KB:g})")
    met = all(found[name]["met"] for name in names)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
