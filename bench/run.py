"""Roost's benchmark: one command, figures and ratios against baselines measured in the same run.

    python bench/run.py            # or: make bench

Phases (only one server is under load at any time; the machine has 2 cores and wrk takes one):

1. ingest  - single-point POST /v1/ingest with wrk, Roost vs a bare Starlette app (bare_app.py);
             then HawkFlow's /v1/metrics (3 items) and /v1/start + /v1/end pairs, the same way;
             then the three loads and traces.py's OTLP load on two fresh Roost servers, one
             recording no ActiveWorkflow messages (ROOST_AGENT_MESSAGES=false): what
             recording messages costs.
2. batch   - POST /v1/ingest/batch with 1000 points per request, Roost's points/s vs raw
             SQLite ``executemany`` rows/s into the same points table (same DDL, WAL, FULL sync).
3. query   - a 30-day series at 10 s resolution read back at 1h resolution with wrk, vs a naive
             GROUP BY over the raw points in the server's own SQLite file.
4. traces  - OTLP spans/s persisted (100 per request) and HoneyHive session events/s, each vs
             a bare app (traces.py, bare_traces.py).
5. stathat - StatHat import points/s from a second Roost as the source, and /ez req/s
             (stathat.py).
6. web     - stat page, 12-chart dashboard, a process with 100,000 runs and a 2,000-event
             session drawn in Chromium; JS + CSS gzipped (web.py).
7. alerts  - one evaluation pass over 10,000 alerts, against the default alert interval
             (alert_eval.py).

Exit code: 0 when the run completed (even if a target is missed: this is a report), non-zero when
something broke (a server did not start, a check failed, or wrk saw errors under load).
Every process started here is stopped by its PID; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import alert_eval
import traces  # bench/ is sys.path[0]
import web
from stathat import StatHatBenchError, measure_stathat

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LUA_DIR = BENCH_DIR / "lua"
RESULTS_DIR = BENCH_DIR / "results"
HOST = "127.0.0.1"

# Targets.
INGEST_RATIO_TARGET = 0.6  # Roost req/s / bare Starlette req/s, single-point ingest
HAWKFLOW_RATIO_TARGET = 0.6  # the same, for /v1/metrics and for /v1/start + /v1/end
# Roost req/s with ActiveWorkflow messages / with ROOST_AGENT_MESSAGES=false, same loads.
MESSAGES_RATIO_TARGET = 0.9
ROUND_CONNECTIONS = 64  # wrk connections of every bare-vs-Roost round
# The messages phase runs this many times --rounds, each that much shorter (see
# measure_messages_cost).
MESSAGES_ROUNDS_PER_ROUND = 3
# One alert evaluation pass must take at most this share of the default interval (30 s).
ALERT_PASS_SHARE_TARGET = 0.1
BATCH_RATIO_TARGET = 0.5  # Roost points/s via the batch API / raw SQLite executemany rows/s
QUERY_P50_TARGET_MS = 5.0  # 30 days at 1h resolution

BATCH_SIZE = 1000
QUERY_STAT = "bench.query"
QUERY_SPAN_S = 30 * 24 * 3600
QUERY_STEP_S = 10
QUERY_POINTS = QUERY_SPAN_S // QUERY_STEP_S  # 259,200
QUERY_BUCKET_S = 3600

READY_TIMEOUT_S = 30.0
WRK_LINE = re.compile(r"^ROOST_WRK (.*)$", re.MULTILINE)

FALLBACK_POINTS_DDL = [
    "CREATE TABLE points (project_id INTEGER NOT NULL, series_id INTEGER NOT NULL, "
    "ts BIGINT NOT NULL, value FLOAT NOT NULL)",
    "CREATE INDEX ix_points_series_ts ON points (project_id, series_id, ts)",
]


class BenchError(Exception):
    """Something broke: the run cannot give a trustworthy figure."""


# --------------------------------------------------------------------------------------------
# Small helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def venv_bin(name: str) -> Path:
    return Path(sys.executable).parent / name


def bench_env(data_dir: Path) -> dict[str, str]:
    """The inherited environment without any ROOST_* setting, plus our data dir (SQLite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def roost_command(*args: str) -> list[str]:
    script = venv_bin("roost")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "roost.cli.main", *args]


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


# --------------------------------------------------------------------------------------------
# Servers


class Server:
    """A server process we started: stopped by its PID (and its own process group)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log(f"starting {self.name}: {' '.join(self.cmd)}")
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                cwd=REPO_DIR,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, whose id is its PID
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, probe: Any, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Poll ``probe()`` (True when ready) until it succeeds, the process dies, or timeout."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        for _ in range(int(timeout_s / 0.1) + 1):
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with code {self.proc.returncode} before it was ready:\n"
                    f"{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if probe():
                    log(f"{self.name} ready (pid {self.proc.pid})")
                    return
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {timeout_s:.0f}s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the server and its live child processes (Roost's
        ingest writer is one), from /proc."""
        assert self.proc is not None
        return process_tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)  # pgid == pid thanks to start_new_session
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        log(f"stopped {self.name} (pid {proc.pid}, code {proc.returncode})")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and of its children, grandchildren…, read from /proc/*/stat."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its ")".
        fields = text.rsplit(")", 1)[1].split()
        stats[int(entry.name)] = (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS,
        )
    total, tree = 0.0, {pid}
    for _ in range(8):  # bounded depth; the server's tree is two deep
        grown = {child for child, (parent, _) in stats.items() if parent in tree} - tree
        if not grown:
            break
        tree |= grown
    for member in tree:
        total += stats.get(member, (0, 0.0))[1]
    return total


# --------------------------------------------------------------------------------------------
# wrk


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    # CPU seconds the server under load (with its children) used during the run, if measured.
    server_cpu_s: float | None = None

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s / self.requests * 1e6


def run_wrk(
    url: str,
    script: str,
    script_args: Sequence[str],
    *,
    connections: int,
    threads: int,
    duration_s: int,
    label: str,
    server: Server | None = None,
) -> WrkResult:
    """One wrk run; with ``server``, also the CPU that server used meanwhile."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk not found: install it with `apt-get install -y wrk`")
    threads = min(threads, connections)
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-s",
        str(LUA_DIR / script),
        url,
        "--",
        *script_args,
    ]
    log(f"wrk {label}: {connections} connections, {threads} threads, {duration_s}s")
    cpu_before = server.cpu_seconds() if server is not None else 0.0
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60, check=False)
    server_cpu_s = server.cpu_seconds() - cpu_before if server is not None else None
    match = WRK_LINE.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        raise BenchError(
            f"wrk {label} failed (code {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    fields = {k: float(v) for k, v in (kv.split("=", 1) for kv in match.group(1).split())}
    duration = fields["duration_us"] / 1e6
    result = WrkResult(
        requests=int(fields["requests"]),
        duration_s=duration,
        rps=fields["requests"] / duration if duration > 0 else 0.0,
        p50_ms=fields["p50_us"] / 1000,
        p90_ms=fields["p90_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        mean_ms=fields["mean_us"] / 1000,
        max_ms=fields["max_us"] / 1000,
        errors={k[4:]: int(v) for k, v in fields.items() if k.startswith("err_")},
        server_cpu_s=server_cpu_s,
    )
    cpu = result.cpu_us_per_request
    log(
        f"  {label}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.requests:,} requests, errors {result.errors}"
        + (f", server CPU {cpu:.1f} us/request" if cpu is not None else "")
    )
    return result


def check_no_errors(result: WrkResult, label: str, problems: list[str]) -> None:
    # wrk counts every status >= 400 as a status error; socket errors count too.
    if result.error_total:
        problems.append(f"{label}: wrk saw errors under load: {result.errors}")


# --------------------------------------------------------------------------------------------
# Raw SQLite baseline


def points_ddl() -> tuple[list[str], Any, str]:
    """DDL for the raw points table, from Roost's own schema so it cannot drift."""
    try:
        from sqlalchemy.dialects import sqlite
        from sqlalchemy.schema import CreateIndex, CreateTable

        from roost.storage.schema import points
    except ImportError as exc:
        log(f"WARNING: cannot import roost.storage.schema ({exc}); using the fallback DDL")
        return list(FALLBACK_POINTS_DDL), None, "fallback"
    dialect = sqlite.dialect()
    stmts = [str(CreateTable(points).compile(dialect=dialect)).strip()]
    stmts += [
        str(CreateIndex(ix).compile(dialect=dialect)).strip()
        for ix in sorted(points.indexes, key=lambda ix: str(ix.name))
    ]
    return stmts, points, "roost.storage.schema"


def _insert_plan(table: Any) -> list[str]:
    """Columns to insert: every column that needs a value from us."""
    if table is None:
        return ["project_id", "series_id", "ts", "value"]
    cols: list[str] = []
    for col in table.columns:
        if col.name in ("project_id", "series_id", "ts", "value"):
            cols.append(col.name)
            continue
        implicit_rowid = col.primary_key and col.autoincrement in (True, "auto")
        if implicit_rowid or col.nullable or col.default is not None:
            continue
        if col.server_default is not None:
            continue
        cols.append(col.name)
    return cols


def _row_value(table: Any, name: str, i: int, base_ms: int) -> Any:
    if name in ("project_id", "series_id"):
        return 1
    if name == "ts":
        return base_ms + i
    if name == "value":
        return float(i % 1000)
    py_type: type = int
    with contextlib.suppress(Exception):
        py_type = table.columns[name].type.python_type
    return py_type() if py_type in (int, float, str, bytes, bool) else 0


def sqlite_baseline(path: Path, seconds: float, max_chunks: int) -> dict[str, Any]:
    stmts, table, source = points_ddl()
    cols = _insert_plan(table)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        for stmt in stmts:
            conn.execute(stmt)
        sql = f"INSERT INTO points ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        base_ms = int(time.time() * 1000)
        db_time = 0.0
        rows = 0
        started = time.monotonic()
        for chunk in range(max_chunks):
            batch = [
                tuple(_row_value(table, c, chunk * BATCH_SIZE + j, base_ms) for c in cols)
                for j in range(BATCH_SIZE)
            ]
            t0 = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(sql, batch)
            conn.execute("COMMIT")
            db_time += time.perf_counter() - t0
            rows += len(batch)
            if time.monotonic() - started >= seconds:
                break
    finally:
        conn.close()
    rows_per_s = rows / db_time if db_time > 0 else 0.0
    log(f"  raw SQLite executemany: {rows:,} rows in {db_time:.2f}s = {rows_per_s:,.0f} rows/s")
    return {
        "rows": rows,
        "seconds": db_time,
        "rows_per_s": rows_per_s,
        "ddl_source": source,
        "ddl": stmts,
    }


# --------------------------------------------------------------------------------------------
# Query phase helpers


async def _load_series(base_url: str, key: str, now_s: int, concurrency: int = 4) -> float:
    start_s = now_s - QUERY_SPAN_S + QUERY_STEP_S  # the last point is at now_s
    headers = {"Authorization": f"Bearer {key}"}
    sem = asyncio.Semaphore(concurrency)
    failures: list[str] = []

    async def send(client: httpx.AsyncClient, first: int) -> None:
        items = [
            {
                "stat": QUERY_STAT,
                "value": float(i % 360),
                "type": "value",
                "t": start_s + i * QUERY_STEP_S,
            }
            for i in range(first, min(first + BATCH_SIZE, QUERY_POINTS))
        ]
        async with sem:
            resp = await client.post("/v1/ingest/batch", json={"items": items}, headers=headers)
        if resp.status_code != 202 or resp.json().get("accepted") != len(items):
            failures.append(f"{resp.status_code} {resp.text[:200]}")

    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        await asyncio.gather(*(send(client, f) for f in range(0, QUERY_POINTS, BATCH_SIZE)))
    elapsed = time.perf_counter() - t0
    if failures:
        raise BenchError(f"loading the query series failed {len(failures)}x: {failures[0]}")
    return elapsed


def _find_stat_id(stats: Any, name: str) -> Any:
    items = stats.get("stats", []) if isinstance(stats, dict) else stats
    for item in items:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get("id")
    return None


def _count_points(body: Any) -> int:
    """Number of points in a data response: the list under 'points'/'data', else the longest."""
    if isinstance(body, dict):
        for key in ("points", "data"):
            if isinstance(body.get(key), list):
                return len(body[key])
        lists = [_count_points(v) for v in body.values() if isinstance(v, dict | list)]
        return max(lists, default=0)
    if isinstance(body, list):
        return len(body)
    return 0


def _project_id(conn: sqlite3.Connection, project: str, series_id: int) -> int:
    for sql, args in (
        ("SELECT id FROM projects WHERE name = ?", (project,)),
        ("SELECT project_id FROM points WHERE series_id = ? LIMIT 1", (series_id,)),
    ):
        with contextlib.suppress(sqlite3.Error):
            row = conn.execute(sql, args).fetchone()
            if row is not None:
                return int(row[0])
    raise BenchError("cannot find the project id in roost.db")


def naive_groupby(
    db_path: Path, project: str, series_id: int, from_s: int, to_s: int, runs: int = 5
) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        project_id = _project_id(conn, project, series_id)
        sql = (
            "SELECT ts / 3600000, avg(value), count(*) FROM points "
            "WHERE project_id = ? AND series_id = ? AND ts >= ? AND ts < ? GROUP BY 1"
        )
        args = (project_id, series_id, from_s * 1000, to_s * 1000 + 1)
        times: list[float] = []
        rows: list[Any] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = conn.execute(sql, args).fetchall()
            times.append(time.perf_counter() - t0)
    finally:
        conn.close()
    median_ms = statistics.median(times) * 1000
    raw_points = sum(int(r[2]) for r in rows)
    log(
        f"  naive GROUP BY: {len(rows)} buckets over {raw_points:,} raw points, "
        f"median {median_ms:.1f} ms of {runs} runs"
    )
    return {"median_ms": median_ms, "buckets": len(rows), "raw_points": raw_points, "runs": runs}


# --------------------------------------------------------------------------------------------
# Report


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None  # None: informational, no target

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return ""
        return "PASS" if self.passed else "FAIL"


def fmt(value: float, unit: str) -> str:
    if unit in ("req/s", "points/s", "rows/s", "spans/s", "events/s"):
        return f"{value:,.0f} {unit}"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.2f} {unit}"


def print_summary(figures: list[Figure], problems: list[str]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print("\nRoost benchmark summary")
        print(f"{'figure':<44} {'value':>20} {'target':>12} {'result':>6}")
        for f in figures:
            print(f"{f.name:<44} {fmt(f.value, f.unit):>20} {f.target:>12} {f.verdict:>6}")
    else:
        table = Table(title="Roost benchmark summary")
        table.add_column("figure")
        table.add_column("value", justify="right")
        table.add_column("target", justify="right")
        table.add_column("result")
        for f in figures:
            style = {"PASS": "green", "FAIL": "red"}.get(f.verdict, "")
            verdict = f"[{style}]{f.verdict}[/{style}]" if style else ""
            table.add_row(f.name, fmt(f.value, f.unit), f.target, verdict)
        Console().print(table)
    for p in problems:
        print(f"PROBLEM: {p}")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    log(f"wrote {path}")


# --------------------------------------------------------------------------------------------
# Main


@contextlib.contextmanager
def temp_data_dir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="roost-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept data dir {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def create_key(env: dict[str, str]) -> str:
    cmd = roost_command("keys", "create", "--project", "bench", "--scopes", "read,write,admin")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    key = proc.stdout.strip()
    if proc.returncode != 0 or not key or len(key.split()) != 1:
        raise BenchError(
            f"`roost keys create` failed (code {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return key


@dataclass
class Rounds:
    """Alternating rounds: (baseline, Roost) results per round, in the order they ran."""

    pairs: list[tuple[WrkResult, WrkResult]]

    @staticmethod
    def _ratio(pair: tuple[WrkResult, WrkResult]) -> float:
        baseline, roost = pair
        return roost.rps / baseline.rps if baseline.rps else 0.0

    @property
    def ratios(self) -> list[float]:
        """Each round's Roost / baseline req/s, sorted."""
        return sorted(self._ratio(pair) for pair in self.pairs)

    @property
    def ratio(self) -> float:
        """The median round's ratio."""
        return self.ratios[len(self.pairs) // 2]

    @property
    def median_pair(self) -> tuple[WrkResult, WrkResult]:
        """The median round's results (baseline, Roost)."""
        return sorted(self.pairs, key=self._ratio)[len(self.pairs) // 2]


def alternate_rounds(
    bare_url: str,
    roost_url: str,
    script: str,
    script_args: list[str],
    *,
    rounds: int,
    duration_s: int,
    label: str,
    problems: list[str],
    roost_args: list[str] | None = None,
    baseline: str = "bare",
    servers: tuple[Server, Server] | None = None,
    connections: int = ROUND_CONNECTIONS,
) -> Rounds:
    """Alternate baseline and Roost rounds.

    This machine's speed drifts by tens of percent from minute to minute; drift that hits
    both sides of one round cancels out of its ratio, and the median drops the odd round.
    ``roost_args`` are Roost's script arguments when they differ from the baseline's (its key).
    With ``servers`` (baseline, Roost), each round also measures the CPU its server used.
    """
    common = {"connections": connections, "threads": 2, "duration_s": duration_s}
    baseline_server, roost_server = servers if servers is not None else (None, None)
    pairs: list[tuple[WrkResult, WrkResult]] = []
    for number in range(1, rounds + 1):

        def baseline_round(number: int = number) -> WrkResult:
            result = run_wrk(
                bare_url,
                script,
                script_args,
                **common,
                label=f"{baseline} {label}, round {number}",
                server=baseline_server,
            )
            check_no_errors(result, f"{baseline} {label}", problems)
            return result

        def roost_round(number: int = number) -> WrkResult:
            result = run_wrk(
                roost_url,
                script,
                roost_args or script_args,
                **common,
                label=f"roost {label}, round {number}",
                server=roost_server,
            )
            check_no_errors(result, f"roost {label}", problems)
            return result

        # Which side goes first alternates too: a server that just wrote under load leaves
        # the kernel flushing its pages while the next one runs.
        if number % 2:
            first = baseline_round()
            pairs.append((first, roost_round()))
        else:
            second = roost_round()
            pairs.append((baseline_round(), second))
    found = Rounds(pairs)
    log(f"  {label} ratios per round: " + ", ".join(f"{ratio:.2f}" for ratio in found.ratios))
    return found


def check_runs_paired(roost_url: str, key: str) -> dict[str, Any]:
    """How the benchmark's runs ended: every pipelined start/end pair should close as ok."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=roost_url, timeout=60.0, headers=headers) as client:
        found = client.get("/api/v1/processes", params={"name": "bench.run"}).json()["items"]
    if not found:
        raise BenchError("no runs of bench.run were recorded")
    summary = found[0]
    # Each end follows its own start on one connection, so a run can only be left open by a
    # pair that wrk cut in half when its time ran out: at most one per connection and round.
    return {"runs": summary["run_count"], "open": summary["open_runs"]}


def _fresh_roost(data_dir: Path, name: str, extra_env: dict[str, str]) -> tuple[Server, str, str]:
    """A Roost server on its own new data directory: (server, url, key); not started yet."""
    own_dir = data_dir / name
    own_dir.mkdir()
    env = {**bench_env(own_dir), **extra_env}
    key = create_key(env)
    port = free_port()
    server = Server(
        f"roost, {name}",
        roost_command("serve", "--host", HOST, "--port", str(port)),
        env,
        data_dir / f"roost-{name}.log",
    )
    return server, f"http://{HOST}:{port}", key


def measure_messages_cost(
    args: argparse.Namespace,
    data_dir: Path,
    single_body: Path,
    metrics_body: Path,
    problems: list[str],
) -> tuple[list[Figure], dict[str, Any]]:
    """Single-point ingest, HawkFlow metrics, start+end pairs and OTLP batches of 100 spans
    (traces.py's load: every span a message) on two fresh Roost servers, one with
    ``ROOST_AGENT_MESSAGES=false``: recording messages may cost at most
    ``1 - MESSAGES_RATIO_TARGET`` of the throughput.

    Both start empty (the main server's tables have grown through the earlier phases), and
    the rounds are three times as many as elsewhere and as short, in the same total time: the
    difference sought is small next to this machine's drift, which short alternations cancel
    better, and the median of nine rounds moves less than that of five (single rounds of one
    load spread by 0.15 and more). Each round also measures the CPU each server used per
    request, a figure the machine's drift hardly moves: what messages cost, without the noise.
    """
    on, on_url, on_key = _fresh_roost(data_dir, "messages-on", {})
    off, off_url, off_key = _fresh_roost(
        data_dir, "messages-off", {"ROOST_AGENT_MESSAGES": "false"}
    )
    rounds = MESSAGES_ROUNDS_PER_ROUND * args.rounds
    duration_s = max(2, args.duration * args.rounds // rounds)
    spans = traces.write_bodies(data_dir)
    otlp = [traces.OTLP_PATH, "{key}", str(spans.otlp_template), "random", str(spans.start_ms)]
    loads = (
        ("ingest", "post.lua", ["/v1/ingest", "{key}", str(single_body)], ROUND_CONNECTIONS),
        (
            "hawkflow metrics",
            "hawkflow.lua",
            ["metrics", "{key}", str(metrics_body)],
            ROUND_CONNECTIONS,
        ),
        ("hawkflow start+end", "hawkflow.lua", ["pairs", "{key}"], ROUND_CONNECTIONS),
        ("otlp", "otlp.lua", otlp, traces.OTLP_CONNECTIONS),
    )
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    try:
        with httpx.Client(timeout=10.0) as client:
            for server, url in ((on, on_url), (off, off_url)):
                server.start()
                server.wait_ready(lambda u=url: client.get(f"{u}/healthz").status_code == 200)
        for label, script, template, connections in loads:
            measured = alternate_rounds(
                off_url,
                on_url,
                script,
                [arg.replace("{key}", off_key) for arg in template],
                rounds=rounds,
                duration_s=duration_s,
                label=f"{label} (messages)",
                problems=problems,
                roost_args=[arg.replace("{key}", on_key) for arg in template],
                baseline="messages off,",
                servers=(off, on),
                connections=connections,
            )
            ratio = measured.ratio
            off_res, on_res = measured.median_pair
            cpu_off = statistics.median(off.cpu_us_per_request or 0.0 for off, _ in measured.pairs)
            cpu_on = statistics.median(on.cpu_us_per_request or 0.0 for _, on in measured.pairs)
            details[label] = {
                "off": asdict(off_res),
                "on": asdict(on_res),
                "ratios_per_round": measured.ratios,
                "cpu_us_per_request": {"on": cpu_on, "off": cpu_off},
            }
            figures += [
                Figure(
                    f"messages: {label} req/s, on / off",
                    ratio,
                    "x",
                    f">= {MESSAGES_RATIO_TARGET}",
                    ratio >= MESSAGES_RATIO_TARGET,
                ),
                Figure(
                    f"messages: {label} server CPU/request, on / off",
                    cpu_on / cpu_off if cpu_off else 0.0,
                    "x",
                ),
            ]
    finally:
        on.stop()
        off.stop()
    return figures, details


def run(args: argparse.Namespace, data_dir: Path) -> tuple[list[Figure], dict[str, Any]]:
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    problems: list[str] = details.setdefault("problems", [])
    details["warnings"] = []
    env = bench_env(data_dir)
    dur = args.duration

    key = create_key(env)
    log(f"created an API key for project 'bench' in {data_dir}")
    auth = {"Authorization": f"Bearer {key}"}

    roost_port, bare_port = free_port(), free_port()
    while bare_port == roost_port:
        bare_port = free_port()
    roost_url, bare_url = f"http://{HOST}:{roost_port}", f"http://{HOST}:{bare_port}"
    roost = Server(
        "roost",
        roost_command("serve", "--host", HOST, "--port", str(roost_port)),
        env,
        data_dir / "roost-server.log",
    )
    bare = Server(
        "bare starlette",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--app-dir",
            str(BENCH_DIR),
            "--host",
            HOST,
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        data_dir / "bare-server.log",
    )

    single_body = data_dir / "single.json"
    single_body.write_text('{"stat":"bench.requests","value":1,"type":"counter"}')
    batch_items = [{"stat": "bench.batch", "value": n, "type": "value"} for n in range(BATCH_SIZE)]
    metrics_body = data_dir / "metrics.json"
    metrics_body.write_text(
        '{"process":"bench.etl","meta":"","items":{"rows":15664,"accuracy":0.85,"users":133}}'
    )
    batch_body = data_dir / "batch.json"
    batch_body.write_text(json.dumps({"items": batch_items}, separators=(",", ":")))

    try:
        roost.start()
        bare.start()
        with httpx.Client(timeout=10.0) as client:
            roost.wait_ready(lambda: client.get(f"{roost_url}/healthz").status_code == 200)
            single = single_body.read_bytes()
            bare.wait_ready(
                lambda: client.post(f"{bare_url}/v1/ingest", content=single).status_code == 201
            )
            # One request each before the load, so a wrong answer is caught here, not by wrk.
            hdrs = {**auth, "Content-Type": "application/json"}
            resp = client.post(f"{roost_url}/v1/ingest", content=single, headers=hdrs)
            if resp.status_code != 202:
                raise BenchError(f"roost /v1/ingest answered {resp.status_code}: {resp.text}")

        # ---- 1. single-point ingest: bare, then Roost --------------------------------------
        wrk_single = ["/v1/ingest", key, str(single_body)]
        common: dict[str, Any] = {"connections": 64, "threads": 2}
        if args.warmup:
            run_wrk(
                bare_url,
                "post.lua",
                wrk_single,
                **common,
                duration_s=args.warmup,
                label="bare warm-up",
            )
        if args.warmup:
            run_wrk(
                roost_url,
                "post.lua",
                wrk_single,
                **common,
                duration_s=args.warmup,
                label="roost warm-up",
            )
        measured = alternate_rounds(
            bare_url,
            roost_url,
            "post.lua",
            wrk_single,
            rounds=args.rounds,
            duration_s=dur,
            label="ingest",
            problems=problems,
        )
        ingest_ratio = measured.ratio
        bare_res, roost_res = measured.median_pair
        details["ingest"] = {
            "bare": asdict(bare_res),
            "roost": asdict(roost_res),
            "ratios_per_round": measured.ratios,
        }
        figures += [
            Figure("ingest: bare Starlette req/s", bare_res.rps, "req/s"),
            Figure("ingest: Roost req/s", roost_res.rps, "req/s"),
            Figure("ingest: Roost p50", roost_res.p50_ms, "ms"),
            Figure("ingest: Roost p99", roost_res.p99_ms, "ms"),
            Figure(
                "ingest: Roost / bare req/s",
                ingest_ratio,
                "x",
                f">= {INGEST_RATIO_TARGET}",
                ingest_ratio >= INGEST_RATIO_TARGET,
            ),
        ]

        # ---- 1b. HawkFlow: /v1/metrics (3 items) and start+end pairs, against bare ---------
        with httpx.Client(timeout=10.0) as client:
            hawk_headers = {"x-hawkflow-api-key": key, "Content-Type": "application/json"}
            resp = client.post(
                f"{roost_url}/v1/metrics", content=metrics_body.read_bytes(), headers=hawk_headers
            )
            if resp.status_code != 201:
                raise BenchError(f"roost /v1/metrics answered {resp.status_code}: {resp.text}")
        for scenario, wrk_args in (
            ("hawkflow metrics", ["metrics", key, str(metrics_body)]),
            ("hawkflow start+end", ["pairs", key]),
        ):
            measured = alternate_rounds(
                bare_url,
                roost_url,
                "hawkflow.lua",
                wrk_args,
                rounds=args.rounds,
                duration_s=dur,
                label=scenario,
                problems=problems,
            )
            ratio = measured.ratio
            bare_res, roost_res = measured.median_pair
            details[scenario] = {
                "bare": asdict(bare_res),
                "roost": asdict(roost_res),
                "ratios_per_round": measured.ratios,
            }
            figures += [
                Figure(f"{scenario}: bare Starlette req/s", bare_res.rps, "req/s"),
                Figure(f"{scenario}: Roost req/s", roost_res.rps, "req/s"),
                Figure(f"{scenario}: Roost p99", roost_res.p99_ms, "ms"),
                Figure(
                    f"{scenario}: Roost / bare req/s",
                    ratio,
                    "x",
                    f">= {HAWKFLOW_RATIO_TARGET}",
                    ratio >= HAWKFLOW_RATIO_TARGET,
                ),
            ]
        pairs = check_runs_paired(roost_url, key)
        details["hawkflow start+end"]["runs"] = pairs
        most_open = ROUND_CONNECTIONS * (args.rounds + 1)
        figures.append(
            Figure(
                "hawkflow start+end: runs left open",
                pairs["open"],
                "runs",
                f"<= {most_open} (pairs cut by wrk)",
                pairs["open"] <= most_open,
            )
        )
        bare.stop()  # the baselines are done: give its memory back

        # ---- 1c. what ActiveWorkflow messages cost: the same loads, messages on vs off -----
        quiet_figures, details["messages"] = measure_messages_cost(
            args, data_dir, single_body, metrics_body, problems
        )
        figures += quiet_figures

        # ---- 2. batch ingest vs raw SQLite --------------------------------------------------
        with httpx.Client(timeout=30.0) as client:
            resp = client.post(
                f"{roost_url}/v1/ingest/batch",
                content=batch_body.read_bytes(),
                headers={**auth, "Content-Type": "application/json"},
            )
        accepted = resp.json().get("accepted") if resp.status_code == 202 else None
        if accepted != BATCH_SIZE:
            raise BenchError(f"roost batch answered {resp.status_code}: {resp.text[:300]}")
        batch_res = run_wrk(
            roost_url,
            "post.lua",
            ["/v1/ingest/batch", key, str(batch_body)],
            connections=8,
            threads=2,
            duration_s=dur,
            label="roost batch",
        )
        check_no_errors(batch_res, "roost batch", problems)
        points_per_s = batch_res.rps * BATCH_SIZE
        log("raw SQLite baseline (roost idle)")
        raw = sqlite_baseline(data_dir / "raw-baseline.db", args.sqlite_seconds, max_chunks=5000)
        batch_ratio = points_per_s / raw["rows_per_s"] if raw["rows_per_s"] else 0.0
        details["batch"] = {"roost": asdict(batch_res), "points_per_s": points_per_s, "raw": raw}
        if raw["ddl_source"] == "fallback":
            details["warnings"].append("raw SQLite baseline used the fallback DDL")
        figures += [
            Figure("batch: Roost points/s (1000/request)", points_per_s, "points/s"),
            Figure("batch: Roost p50 per request", batch_res.p50_ms, "ms"),
            Figure("batch: raw SQLite executemany rows/s", raw["rows_per_s"], "rows/s"),
            Figure(
                "batch: Roost / raw SQLite",
                batch_ratio,
                "x",
                f">= {BATCH_RATIO_TARGET}",
                batch_ratio >= BATCH_RATIO_TARGET,
            ),
        ]

        # ---- 3. query a 30-day series at 1h ------------------------------------------------
        now_s = int(time.time())
        log(f"loading {QUERY_POINTS:,} points of {QUERY_STAT!r} (30 days, every 10 s)")
        load_s = asyncio.run(_load_series(roost_url, key, now_s))
        log(f"  loaded in {load_s:.1f}s ({QUERY_POINTS / load_s:,.0f} points/s)")
        from_s, to_s = now_s - QUERY_SPAN_S, now_s
        with httpx.Client(base_url=roost_url, timeout=30.0, headers=auth) as client:
            resp = client.get("/v1/stats")
            if resp.status_code != 200:
                raise BenchError(f"GET /v1/stats answered {resp.status_code}: {resp.text[:300]}")
            stat_id = _find_stat_id(resp.json(), QUERY_STAT)
            if stat_id is None:
                raise BenchError(f"{QUERY_STAT!r} not in GET /v1/stats: {resp.text[:300]}")
            query_path = f"/v1/stats/{stat_id}/data?from={from_s}&to={to_s}&resolution=1h"
            resp = client.get(query_path)
            n_points = _count_points(resp.json()) if resp.status_code == 200 else 0
        expected = QUERY_SPAN_S // QUERY_BUCKET_S
        if resp.status_code != 200 or not expected - 2 <= n_points <= expected + 2:
            raise BenchError(
                f"GET {query_path} answered {resp.status_code} with {n_points} points "
                f"(expected ~{expected}): {resp.text[:300]}"
            )
        log(f"  GET {query_path} -> 200, {n_points} points")
        # One connection: the p50 is the latency of a query, not the time spent queueing
        # behind the benchmark's own concurrent queries on a 2-core machine.
        query_res = run_wrk(
            roost_url,
            "get.lua",
            [query_path, key],
            connections=1,
            threads=1,
            duration_s=dur,
            label="roost query",
        )
        check_no_errors(query_res, "roost query", problems)
        roost.stop()  # the naive query runs alone, on the file the server wrote
        naive = naive_groupby(data_dir / "roost.db", "bench", int(stat_id), from_s, to_s)
        query_ratio = naive["median_ms"] / query_res.p50_ms if query_res.p50_ms else 0.0
        details["query"] = {
            "path": query_path,
            "points_returned": n_points,
            "load_seconds": load_s,
            "roost": asdict(query_res),
            "naive_groupby": naive,
        }
        figures += [
            Figure(
                "query 30d@1h: Roost p50",
                query_res.p50_ms,
                "ms",
                f"<= {QUERY_P50_TARGET_MS:g} ms",
                query_res.p50_ms <= QUERY_P50_TARGET_MS,
            ),
            Figure("query 30d@1h: Roost p99", query_res.p99_ms, "ms"),
            Figure("query 30d@1h: Roost req/s", query_res.rps, "req/s"),
            Figure("query 30d@1h: naive GROUP BY median", naive["median_ms"], "ms"),
            Figure("query 30d@1h: naive / Roost p50", query_ratio, "x"),
        ]
    finally:
        bare.stop()
        roost.stop()

    # ---- 4. traces: OTLP spans/s persisted, HoneyHive session events/s, against bare ---------
    try:
        traced = traces.measure_all(data_dir / "traces", dur)
    except traces.TraceBenchError as exc:
        raise BenchError(str(exc)) from exc
    details["traces"] = traced
    otlp, events = traced["otlp"], traced["session_events"]
    figures += [
        Figure("otlp: bare spans/s (100/request)", otlp["bare"]["spans_per_s"], "spans/s"),
        Figure(
            "otlp: Roost spans/s persisted",
            otlp["roost"]["spans_per_s"],
            "spans/s",
            f">= {traces.TARGET_SPANS_PER_S:,}",
            otlp["target_met"],
        ),
        Figure("otlp: Roost / bare", otlp["ratio"], "x"),
        Figure("session events: bare events/s", events["bare"]["events_per_s"], "events/s"),
        Figure("session events: Roost events/s", events["roost"]["events_per_s"], "events/s"),
        Figure("session events: Roost / bare", events["ratio"], "x"),
    ]

    # ---- 5. StatHat: import speed from a second Roost as the source; /ez ingest -------------
    try:
        found = measure_stathat(data_dir / "stathat", stats=20, days=3, ez_seconds=dur)
    except StatHatBenchError as exc:
        raise BenchError(str(exc)) from exc
    details["stathat"] = found
    figures.append(Figure("stathat import: points/s", found["import"]["points_per_s"], "points/s"))
    if found["ez"]:
        figures.append(Figure("stathat /ez GET: req/s", found["ez"]["requests_per_s"], "req/s"))

    # ---- 6. web: pages rendered and drawn in Chromium, JS + CSS sent (web.py) ---------------
    try:
        seen = web.measure(data_dir / "web")
    except web.WebBenchError as exc:
        raise BenchError(str(exc)) from exc
    details["web"] = seen
    for label, name in (
        ("stat page 30d@10s", "stat_page_ms"),
        ("dashboard 12 charts", "dashboard_ms"),
        ("process page, 100k runs", "process_page_ms"),
        ("session page, 2,000 events", "session_page_ms"),
    ):
        figure = seen[name]
        figures.append(
            Figure(
                f"web {label}: drawn",
                figure["median"],
                "ms",
                f"< {figure['target']:g} ms",
                figure["met"],
            )
        )
    assets = seen["assets"]
    figures.append(
        Figure(
            "web JS + CSS gzipped",
            assets["gzip_kb"],
            "KB",
            f"< {assets['target_kb']:g} KB",
            assets["met"],
        )
    )

    # ---- 7. alerts: one evaluation pass over 10,000 alerts (alert_eval.py) --------------------
    evaluated = alert_eval.measure(data_dir / "alerts")
    details["alerts"] = evaluated
    budget = evaluated["interval_s"] * ALERT_PASS_SHARE_TARGET
    figures += [
        Figure("alerts: first pass over 10,000", evaluated["first_pass_s"], "s"),
        Figure(
            "alerts: steady pass over 10,000",
            evaluated["steady_pass_s"],
            "s",
            f"<= {budget:g} s",
            evaluated["steady_pass_s"] <= budget,
        ),
    ]
    return figures, details


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds before ingest (2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating bare/Roost ingest rounds (3)"
    )
    parser.add_argument(
        "--sqlite-seconds", type=float, default=2.5, help="raw SQLite baseline seconds (2.5)"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the temp data directory")
    parser.add_argument(
        "--json", type=Path, default=RESULTS_DIR / "latest.json", help="where to write results"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 30:
        parser.error("--duration must be 1..120 and --warmup 0..30")
    args.sqlite_seconds = min(max(args.sqlite_seconds, 0.1), 30.0)

    started = datetime.now(UTC)
    figures: list[Figure] = []
    details: dict[str, Any] = {"problems": []}
    error: str | None = None
    with temp_data_dir(args.keep_data) as data_dir:
        try:
            figures, details = run(args, data_dir)
        except BenchError as exc:
            error = str(exc)
        except (OSError, subprocess.SubprocessError, httpx.HTTPError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
    problems: list[str] = details.get("problems", [])
    if error:
        problems.append(error)
    print_summary(figures, problems)
    payload = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "duration_s": args.duration,
        "ok": not problems,
        "problems": problems,
        "figures": [
            {
                "name": f.name,
                "value": f.value,
                "unit": f.unit,
                "target": f.target or None,
                "result": f.verdict or None,
            }
            for f in figures
        ],
        "details": details,
    }
    write_json(args.json, payload)
    if problems:
        print("benchmark BROKEN: see the problems above", file=sys.stderr)
        return 1
    judged = [f for f in figures if f.passed is not None]
    print(f"targets met: {sum(bool(f.passed) for f in judged)} of {len(judged)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
