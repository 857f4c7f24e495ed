"""Helpers for the StatHat tests: the npm client, a faulty proxy, and export API comparisons.

Everything here talks to 127.0.0.1 only, and every wait is bounded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
NPM_TIMEOUT_S = 300
NODE_TIMEOUT_S = 90
HOST = "127.0.0.1"


# -- the npm stathat client ------------------------------------------------------------------


def install_js_clients() -> Path:
    """``npm ci`` in tests/js (git-ignored node_modules) unless the pinned client is there."""
    if (JS_DIR / "node_modules" / "stathat" / "main.js").exists():
        return JS_DIR
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("the StatHat client tests need node and npm: apt-get install -y nodejs npm")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=JS_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_S,
    )
    assert done.returncode == 0, f"npm ci failed in {JS_DIR}:\n{done.stdout}\n{done.stderr}"
    return JS_DIR


def run_node_client(base_url: str, calls: list[list[Any]]) -> list[dict[str, Any]]:
    """Run ``[function, arg, …]`` calls of the npm client against ``base_url``; their callbacks."""
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, str(JS_DIR / "stathat_client.js")],
        cwd=JS_DIR,
        input=json.dumps(calls),
        env={"ROOST_URL": base_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
    )
    assert done.returncode == 0, f"node client failed:\n{done.stdout}\n{done.stderr}"
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


# -- a source that misbehaves on purpose -----------------------------------------------------


@dataclass
class FaultyProxy:
    """Forwards GETs to ``upstream``; can answer 503, hang, or slow down first.

    Only requests whose path holds ``only`` are touched: ``fail`` and ``hang`` count down per
    such request, and ``delay`` slows each of them.
    """

    upstream: str
    fail: int = 0
    hang: int = 0
    hang_seconds: float = 2.5
    delay: float = 0.0
    only: str = ""
    seen: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def decide(self, path: str) -> str:
        with self.lock:
            if self.only in path:
                if self.fail > 0:
                    self.fail -= 1
                    return "fail"
                if self.hang > 0:
                    self.hang -= 1
                    return "hang"
            return "pass"


@contextmanager
def faulty_proxy(upstream: str, **knobs: Any) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream, **knobs)
    client = httpx.Client(base_url=upstream, timeout=10.0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            action = proxy.decide(self.path)
            if action == "hang":
                time.sleep(proxy.hang_seconds)
            if proxy.delay and proxy.only in self.path:
                time.sleep(proxy.delay)
            if action in ("fail", "hang"):
                status, body = 503, b'{"msg":"try again"}'
            else:
                answer = client.get(self.path)
                status, body = answer.status_code, answer.content
            with proxy.lock:
                proxy.seen.append((self.path, status))
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a hang)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        client.close()


# -- reading both sides through the export API -----------------------------------------------


def statlist(http: httpx.Client, token: str) -> list[dict[str, Any]]:
    answer = http.get(f"/x/{token}/statlist")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def dataset(http: httpx.Client, token: str, stat_id: str, t: str, start: int) -> list[Any]:
    answer = http.get(f"/x/{token}/data/{stat_id}", params={"t": t, "start": start})
    assert answer.status_code == 200, answer.text
    points: list[Any] = answer.json()[0]["points"]
    return points


def import_status(http: httpx.Client, key: str) -> dict[str, Any] | None:
    answer = http.get("/v1/import/stathat/status", headers={"Authorization": f"Bearer {key}"})
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def wait_for_import(
    http: httpx.Client,
    key: str,
    *,
    timeout: float = 90.0,
    until: Callable[[dict[str, Any]], bool] = lambda s: s["state"] in ("done", "failed"),
) -> dict[str, Any]:
    """Poll ``/v1/import/stathat/status`` until ``until`` holds (default: the job ended)."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        status = import_status(http, key)
        if status is not None and until(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"the import did not get there in {timeout} s: {status}")
