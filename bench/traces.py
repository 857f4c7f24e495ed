"""Trace ingest figures: OTLP spans/s persisted, and HoneyHive ``POST /session/{id}/event``
events/s, each next to the same load on a bare Starlette app (``bare_traces.py``).

    python bench/traces.py                  # starts both servers, prints the figures as JSON
    python bench/traces.py --duration 5

For ``bench/run.py``, with Roost and the bare app already running (one under load at a time)::

    import traces
    bodies = traces.write_bodies(data_dir)
    bare = traces.measure_otlp(bare_url, key, duration_s, bodies, verify=False)
    roost = traces.measure_otlp(roost_url, key, duration_s, bodies)
    ratio = roost["spans_per_s"] / bare["spans_per_s"]
    bare = traces.measure_session_events(bare_url, key, duration_s, bodies, verify=False)
    roost = traces.measure_session_events(roost_url, key, duration_s, bodies)
    ratio = roost["events_per_s"] / bare["events_per_s"]
    # bare_traces.py is started with traces.bare_command(port)

OTLP: wrk (8 connections) posts OTLP/JSON batches of 100 spans shaped like the HoneyHive SDK's
(``lua/otlp.lua`` gives every request a new trace and session id, so every span is a new row).
Roost answers 200 only after the commit, so spans/s = 2xx answers/s * 100 is a persisted rate;
with ``verify`` the run also checks it: the ``trace.events`` counter series must have grown by
at least that many spans. Session events: wrk (64 connections) posts one event per request to
one session with ``lua/post.lua``; events/s = 2xx answers/s, verified the same way.

Every process started here is stopped by its PID; traffic goes to 127.0.0.1 only; every wait
is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
LUA_DIR = BENCH_DIR / "lua"
HOST = "127.0.0.1"
SPANS_PER_REQUEST = 100
OTLP_PATH = "/opentelemetry/v1/traces"
OTLP_CONNECTIONS = 8
EVENT_CONNECTIONS = 64
WRK_THREADS = 2
READY_TIMEOUT_S = 30.0
TARGET_SPANS_PER_S = 20_000  # SQLite, one worker (issue 4)
WRK_LINE = re.compile(r"^ROOST_WRK (.*)$", re.MULTILINE)


class TraceBenchError(Exception):
    """The run cannot give a trustworthy figure."""


@dataclass(frozen=True)
class TraceBodies:
    otlp_template: Path  # OTLP/JSON with @@TRACE@@, @@SESSION@@ and @@MS@@ placeholders
    session_event: Path  # one HoneyHive event, no id (the server makes one per request)
    session_id: str
    start_ms: int  # the time the bodies' spans and events claim, for the verifying query


def _attribute(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def write_bodies(folder: Path) -> TraceBodies:
    """The request bodies, written once per run into ``folder``."""
    start_ms = int(time.time() * 1000)
    spans = []
    for number in range(1, SPANS_PER_REQUEST + 1):
        attributes = {
            "honeyhive.session_id": "@@SESSION@@",
            "traceloop.association.properties.session_id": "@@SESSION@@",
            "honeyhive.source": "bench",
            "honeyhive_event_type": "tool",
            "honeyhive_inputs.query": f"question {number}",
            "honeyhive_inputs.options": '{"temperature": 0.1, "top_k": 5}',
            "honeyhive_metadata.event_type": "tool",
            "honeyhive_outputs.result.0": "first answer",
            "honeyhive_outputs.result.1": "second answer",
            # Durations of every size, as real calls have (the duration index sees them all).
            "honeyhive_duration_ms": round(0.2 + (number * 7919 % 1000) / 7.0, 3),
        }
        spans.append(
            {
                "traceId": "@@TRACE@@",
                "spanId": f"{number:016x}",
                "parentSpanId": None if number == 1 else f"{1:016x}",
                "name": f"app.step_{number % 10}",
                "kind": "SPAN_KIND_INTERNAL",
                # @@MS@@: a millisecond time that grows with every request, as real time does.
                "startTimeUnixNano": f"@@MS@@{number * 1000:06d}",
                "endTimeUnixNano": f"@@MS@@{number * 1000 + 500_000:06d}",
                "attributes": [_attribute(key, value) for key, value in attributes.items()],
                "events": [],
                "status": {"code": "STATUS_CODE_UNSET"},
            }
        )
    document = {
        "resourceSpans": [
            {"resource": {}, "scopeSpans": [{"scope": {"name": "honeyhive.1"}, "spans": spans}]}
        ]
    }
    template = folder / "otlp-template.json"
    template.write_text(json.dumps(document, separators=(",", ":")))
    event = folder / "session-event.json"
    event.write_text(
        json.dumps(
            {
                "event_type": "chain",
                "event_name": "agent.step",
                "source": "bench",
                "inputs": {"question": "where is my order?"},
                "outputs": {"answer": "shipped"},
                "start_time": start_ms,
                "duration": 12.5,
            }
        )
    )
    return TraceBodies(template, event, str(uuid.uuid4()), start_ms)


# -- wrk ----------------------------------------------------------------------------------------


def _wrk(
    url: str, script: str, args: list[str], *, connections: int, duration_s: float
) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise TraceBenchError("wrk not found: install it with `apt-get install -y wrk`")
    seconds = max(1, round(duration_s))
    command = [
        wrk,
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(LUA_DIR / script),
        url,
        "--",
        *args,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    match = WRK_LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise TraceBenchError(f"wrk failed (code {done.returncode}):\n{done.stdout}\n{done.stderr}")
    fields = {k: float(v) for k, v in (pair.split("=", 1) for pair in match.group(1).split())}
    elapsed = fields["duration_us"] / 1e6
    errors = {k[4:]: int(v) for k, v in fields.items() if k.startswith("err_") and v}
    ok = int(fields["requests"]) - errors.get("status", 0)
    return {
        "requests": int(fields["requests"]),
        "ok_requests": ok,
        "seconds": elapsed,
        "rps": ok / elapsed if elapsed else 0.0,
        "p50_ms": fields["p50_us"] / 1000,
        "p99_ms": fields["p99_us"] / 1000,
        "errors": errors,
    }


# -- verification through Roost's own API -------------------------------------------------------


def _events_counted(base_url: str, key: str, event_type: str, start_ms: int) -> int:
    """The ``trace.events`` counter of one event type, summed around the bodies' time."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as client:
        stats = client.get("/v1/stats").json()["stats"]
        found = [
            stat
            for stat in stats
            if stat["name"] == "trace.events"
            and stat.get("labels", {"event_type": event_type}) == {"event_type": event_type}
        ]
        if not found:
            return 0
        around = {"from": start_ms // 1000 - 86_400, "to": start_ms // 1000 + 86_400}
        data = client.get(
            f"/v1/stats/{found[0]['id']}/data", params={**around, "resolution": "1d"}
        ).json()
    return round(sum(point["value"] or 0 for point in data["points"]))


def _check_once(base_url: str, key: str, method_path: str, body: bytes) -> None:
    response = httpx.post(
        base_url + method_path,
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=30.0,
    )
    if response.status_code != 200:
        raise TraceBenchError(
            f"POST {method_path} answered {response.status_code}: {response.text[:300]}"
        )


def measure_otlp(
    base_url: str, key: str, duration_s: float, bodies: TraceBodies, *, verify: bool = True
) -> dict[str, Any]:
    """OTLP spans/s persisted, in batches of SPANS_PER_REQUEST (see the module docstring)."""
    nonce = secrets.token_hex(4)
    if verify:
        probe = bodies.otlp_template.read_text()
        probe = (
            probe.replace("@@TRACE@@", secrets.token_hex(16))
            .replace("@@SESSION@@", str(uuid.uuid4()))
            .replace("@@MS@@", str(bodies.start_ms))
        )
        _check_once(base_url, key, OTLP_PATH, probe.encode())
        before = _events_counted(base_url, key, "tool", bodies.start_ms)
    result = _wrk(
        base_url,
        "otlp.lua",
        [OTLP_PATH, key, str(bodies.otlp_template), nonce, str(bodies.start_ms)],
        connections=OTLP_CONNECTIONS,
        duration_s=duration_s,
    )
    result["spans_per_s"] = result["rps"] * SPANS_PER_REQUEST
    if verify:
        persisted = _events_counted(base_url, key, "tool", bodies.start_ms) - before
        result["spans_persisted"] = persisted
        if persisted < result["ok_requests"] * SPANS_PER_REQUEST:
            raise TraceBenchError(
                f"{result['ok_requests']} batches answered 200 but only {persisted} spans "
                "were counted"
            )
    return result


def measure_session_events(
    base_url: str, key: str, duration_s: float, bodies: TraceBodies, *, verify: bool = True
) -> dict[str, Any]:
    """``POST /session/{id}/event`` events/s, one event per request (see the module docstring)."""
    path = f"/session/{bodies.session_id}/event"
    if verify:
        _check_once(base_url, key, path, bodies.session_event.read_bytes())
        before = _events_counted(base_url, key, "chain", bodies.start_ms)
    result = _wrk(
        base_url,
        "post.lua",
        [path, key, str(bodies.session_event)],
        connections=EVENT_CONNECTIONS,
        duration_s=duration_s,
    )
    result["events_per_s"] = result["rps"]
    if verify:
        persisted = _events_counted(base_url, key, "chain", bodies.start_ms) - before
        result["events_persisted"] = persisted
        if persisted < result["ok_requests"]:
            raise TraceBenchError(
                f"{result['ok_requests']} events answered 200 but only {persisted} were counted"
            )
    return result


# -- standalone run -----------------------------------------------------------------------------


def bare_command(port: int) -> list[str]:
    """The command that serves ``bare_traces.py`` on 127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_traces:app",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _roost(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("roost")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "roost.cli.main"]
    return [*base, *args]


@contextlib.contextmanager
def _serving(command: list[str], env: dict[str, str], log: Path, probe_url: str) -> Iterator[None]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise TraceBenchError(f"{command[0]} exited early:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(probe_url, timeout=1.0).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise TraceBenchError(f"{command[0]} not ready:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own group, whose id is its pid
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def measure_all(work_dir: Path, duration_s: float) -> dict[str, Any]:
    """Start Roost (SQLite, one worker) and the bare app; measure both phases on both."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATA_DIR"] = str(work_dir / "data")
    key = subprocess.run(
        _roost("keys", "create", "--project", "bench-traces", "--scopes", "read,write"),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    bodies = write_bodies(work_dir)
    roost_port, bare_port = _free_port(), _free_port()
    roost_url, bare_url = f"http://{HOST}:{roost_port}", f"http://{HOST}:{bare_port}"
    figures: dict[str, Any] = {}
    with (
        _serving(
            _roost("serve", "--host", HOST, "--port", str(roost_port)),
            env,
            work_dir / "roost.log",
            f"{roost_url}/healthz",
        ),
        _serving(bare_command(bare_port), env, work_dir / "bare.log", f"{bare_url}/v1/traces"),
    ):
        warm_up = min(2.0, duration_s)
        measure_otlp(roost_url, key, warm_up, bodies, verify=False)
        bare = measure_otlp(bare_url, key, duration_s, bodies, verify=False)
        roost = measure_otlp(roost_url, key, duration_s, bodies)
        figures["otlp"] = {
            "bare": bare,
            "roost": roost,
            "ratio": roost["spans_per_s"] / bare["spans_per_s"] if bare["spans_per_s"] else 0.0,
            "target_spans_per_s": TARGET_SPANS_PER_S,
            "target_met": roost["spans_per_s"] >= TARGET_SPANS_PER_S,
        }
        bare = measure_session_events(bare_url, key, duration_s, bodies, verify=False)
        roost = measure_session_events(roost_url, key, duration_s, bodies)
        figures["session_events"] = {
            "bare": bare,
            "roost": roost,
            "ratio": roost["events_per_s"] / bare["events_per_s"] if bare["events_per_s"] else 0.0,
        }
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run (10)")
    args = parser.parse_args()
    if not 1 <= args.duration <= 20:
        parser.error("--duration must be 1..20 seconds")
    with tempfile.TemporaryDirectory(prefix="roost-bench-traces-") as folder:
        figures = measure_all(Path(folder), args.duration)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
