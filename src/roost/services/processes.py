"""Processes, runs and metrics: write jobs for the ingest path and queries for the read API.

Write jobs run inside the writer's transaction (``store.write(partial(job, ...))``); each
authenticates the key in that transaction and returns, rather than raises, a failure found
before it wrote anything, so the writer need not replay its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain.agents import AgentSeed, process_seed
from roost.domain.errors import NotFound, RoostError
from roost.domain.keys import Scope
from roost.domain.processes import Metric, ProcessKey, RunStatus, percentile
from roost.domain.stats import Kind
from roost.services.access import Principal, authenticate_in
from roost.services.messages import add_message
from roost.storage import runs as run_store
from roost.storage import series as series_store
from roost.storage.runs import ProcessRow, RunRow
from roost.storage.series import SeriesRow
from roost.storage.writer import WriteTx

DURATION_SERIES = "run duration (ms)"
EXCEPTION_SERIES = "exceptions"
# p50/p95 are computed over this many of the newest closed runs.
PERCENTILE_WINDOW = 1000
ABANDON_BATCH = 1000
RUN_ID_BLOCK = 16
ABANDON_LEADER_LOCK = "roost.abandon-runs"


def principal_in(tx: WriteTx, key_hash: str) -> Principal | RoostError:
    """The write principal of the key, or the error to answer with."""
    try:
        return authenticate_in(tx, key_hash).require(Scope.WRITE)
    except RoostError as exc:
        return exc


def process_for(tx: WriteTx, project_id: int, key: ProcessKey, now: int) -> ProcessRow:
    """The process, created with its duration and exception series on first sight."""
    # Keyed by the names, not the ident: a memo hit then costs no hashing.
    memo_key = ("process", project_id, key.name, key.meta)
    found: ProcessRow | None = tx.memo.get(memo_key)
    if found is None:
        ident = key.ident
        found = run_store.find_process(tx.conn, project_id=project_id, ident=ident)
        if found is None:
            found = _create_process(tx.conn, project_id, key, ident, now)
        tx.memo[memo_key] = found
    return found


def _create_process(
    conn: Connection, project_id: int, key: ProcessKey, ident: str, now: int
) -> ProcessRow:
    durations = series_store.get_or_create_series(
        conn,
        project_id=project_id,
        name=DURATION_SERIES,
        kind=Kind.VALUE.value,
        created_at=now,
        labels_key=key.labels_key("runs"),
    )
    counts = series_store.get_or_create_series(
        conn,
        project_id=project_id,
        name=EXCEPTION_SERIES,
        kind=Kind.COUNTER.value,
        created_at=now,
        labels_key=key.labels_key("exceptions"),
    )
    run_store.insert_process(
        conn,
        {
            "project_id": project_id,
            "name": key.name,
            "meta": key.meta,
            "ident": ident,
            "duration_series_id": durations.id,
            "exceptions_series_id": counts.id,
            "created_at": now,
        },
    )
    created = run_store.find_process(conn, project_id=project_id, ident=ident)
    assert created is not None  # inserted above, or by a concurrent writer
    return created


# -- write jobs --------------------------------------------------------------------------


def record_start(
    tx: WriteTx, *, key_hash: str, process: ProcessKey, uid: str, now: int, retry_window_ms: int
) -> RoostError | None:
    """Open a run. A start identical to an open one from within the retry window is the
    client re-sending after a timeout (HawkFlow's Python client does, with no idempotency
    key), so it is acknowledged without opening a second run."""
    principal = principal_in(tx, key_hash)
    if isinstance(principal, RoostError):
        return principal
    project_id = principal.project_id
    row = process_for(tx, project_id, process, now)
    # With no window, no earlier start can match: started_at >= now + 1 is never true.
    retry_since = now - retry_window_ms if retry_window_ms > 0 else now + 1
    run_store.start_run(
        tx.conn,
        run_id=new_run_id(tx),
        project_id=project_id,
        process_id=row.id,
        uid=uid,
        started_at=now,
        retry_since=retry_since,
    )
    _emit(tx, row, now, {"kind": "run_started", "uid": uid})
    return None


def _emit(tx: WriteTx, process: ProcessRow, now: int, payload: dict[str, object]) -> None:
    """An ActiveWorkflow message from the process's agent (see ``services.messages``)."""
    payload["process"] = process.name
    payload["meta"] = process.meta
    add_message(
        tx,
        project_id=process.project_id,
        agent=agent_of(tx, process),
        created_at=now,
        payload=payload,
    )


def agent_of(tx: WriteTx, process: ProcessRow) -> AgentSeed:
    """The process's agent, memoised for the transaction (most requests repeat a process)."""
    memo_key = ("agent", process.id)
    found: AgentSeed | None = tx.memo.get(memo_key)
    if found is None:
        found = tx.memo[memo_key] = process_seed(process.id, process.name, process.meta)
    return found


def record_end(
    tx: WriteTx,
    *,
    key_hash: str,
    process: ProcessKey,
    uid: str,
    info: str | None,
    now: int,
    retry_window_ms: int,
) -> RoostError | None:
    """Close the newest open run with the same process, meta and uid; without a uid, fall
    back to the newest open run of the process whatever its uid (HawkFlow's JS example starts
    with a uid and ends without); otherwise keep the end as an orphan."""
    principal = principal_in(tx, key_hash)
    if isinstance(principal, RoostError):
        return principal
    project_id = principal.project_id
    row = process_for(tx, project_id, process, now)
    conn = tx.conn
    duration = run_store.close_newest_run(
        conn, project_id=project_id, process_id=row.id, uid=uid, ended_at=now, info=info
    )
    if duration is None and uid == "":
        duration = run_store.close_newest_run(
            conn, project_id=project_id, process_id=row.id, uid=None, ended_at=now, info=info
        )
    if duration is not None:
        tx.points.add(project_id, row.duration_series_id, now, float(duration))
        _emit(tx, row, now, _ended(uid, duration, info, orphan=False))
        return None
    if retry_window_ms > 0 and run_store.ended_since(
        conn,
        project_id=project_id,
        process_id=row.id,
        uid=uid,
        since=now - retry_window_ms,
        info=info,
    ):
        return None  # the same end again: the client timed out and retried
    run_store.insert_run(
        conn,
        run_id=new_run_id(tx),
        project_id=project_id,
        process_id=row.id,
        uid=uid,
        status=RunStatus.ORPHAN_END,
        started_at=None,
        ended_at=now,
        info=info,
    )
    _emit(tx, row, now, _ended(uid, None, info, orphan=True))
    return None


def _ended(uid: str, duration: int | None, info: str | None, *, orphan: bool) -> dict[str, object]:
    return {
        "kind": "run_ended",
        "uid": uid,
        "duration_ms": duration,
        "info": info,
        "orphan": orphan,
    }


def new_run_id(tx: WriteTx) -> int:
    """A run id from a block reserved for this transaction: one statement per block, not
    one per run (a transaction groups many requests)."""
    reserved: list[int] | None = tx.memo.get("run_ids")
    if not reserved:
        # Reversed, so pop() hands them out in ascending order: run ids follow arrival.
        reserved = tx.memo["run_ids"] = run_store.reserve_run_ids(tx.conn, RUN_ID_BLOCK)[::-1]
    return reserved.pop()


def record_metrics(
    tx: WriteTx, *, key_hash: str, process: ProcessKey, metrics: Sequence[Metric], now: int
) -> RoostError | None:
    """One point per metric, in a value series labelled with the process and meta."""
    principal = principal_in(tx, key_hash)
    if isinstance(principal, RoostError):
        return principal
    project_id = principal.project_id
    row = process_for(tx, project_id, process, now)
    points = tx.points
    for metric in metrics:
        found = metric_series(tx, row, process, metric.name, now)
        points.add(project_id, found.id, now, metric.value)
    items = {metric.name: metric.value for metric in metrics}
    _emit(tx, row, now, {"kind": "metrics", "metrics": items})
    return None


def metric_series(
    tx: WriteTx, process: ProcessRow, key: ProcessKey, name: str, now: int
) -> SeriesRow:
    """The value series of one of the process's metrics, created and linked on first sight."""
    memo_key = ("metric", process.id, name)
    found: SeriesRow | None = tx.memo.get(memo_key)
    if found is None:
        conn = tx.conn
        project_id = process.project_id
        labels_key = key.labels_key()
        found = series_store.find_series(
            conn, project_id=project_id, name=name, labels_key=labels_key
        )
        if found is None:
            found = series_store.get_or_create_series(
                conn,
                project_id=project_id,
                name=name,
                kind=Kind.VALUE.value,
                created_at=now,
                labels_key=labels_key,
            )
            run_store.link_metric_series(
                conn, project_id=project_id, process_id=process.id, series_id=found.id
            )
        tx.memo[memo_key] = found
    return found


def abandon_stale_runs(tx: WriteTx, *, started_before: int) -> int:
    """Mark runs open since before ``started_before`` abandoned (one bounded batch)."""
    return run_store.abandon_runs(tx.conn, started_before=started_before, limit=ABANDON_BATCH)


# -- reads -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessSummary:
    process: ProcessRow
    last_run: RunRow | None
    run_count: int
    open_runs: int
    p50_ms: float | None
    p95_ms: float | None


def summarise(conn: Connection, process: ProcessRow) -> ProcessSummary:
    project_id = process.project_id
    total, running = run_store.run_counts(conn, project_id=project_id, process_id=process.id)
    durations = sorted(
        run_store.recent_durations(
            conn, project_id=project_id, process_id=process.id, limit=PERCENTILE_WINDOW
        )
    )
    return ProcessSummary(
        process=process,
        last_run=run_store.last_run(conn, project_id=project_id, process_id=process.id),
        run_count=total,
        open_runs=running,
        p50_ms=percentile(durations, 0.5),
        p95_ms=percentile(durations, 0.95),
    )


def list_processes(
    conn: Connection, *, project_id: int, name: str | None, before: int | None, limit: int
) -> list[ProcessSummary]:
    rows = run_store.list_processes(
        conn, project_id=project_id, name=name, before=before, limit=limit
    )
    return [summarise(conn, row) for row in rows]


def get_process(conn: Connection, *, project_id: int, process_id: int) -> ProcessRow:
    found = run_store.get_process(conn, project_id=project_id, process_id=process_id)
    if found is None:
        raise NotFound("process not found")
    return found


def list_runs(
    conn: Connection,
    *,
    project_id: int,
    process_id: int,
    statuses: list[str] | None,
    start: int | None,
    end: int | None,
    before: int | None,
    limit: int,
) -> list[RunRow]:
    get_process(conn, project_id=project_id, process_id=process_id)
    return run_store.list_runs(
        conn,
        project_id=project_id,
        process_id=process_id,
        statuses=statuses,
        start=start,
        end=end,
        before=before,
        limit=limit,
    )


def get_run(conn: Connection, *, project_id: int, run_id: int) -> RunRow:
    found = run_store.get_run(conn, project_id=project_id, run_id=run_id)
    if found is None:
        raise NotFound("run not found")
    return found


def metric_series_of(conn: Connection, *, project_id: int, process_id: int) -> list[SeriesRow]:
    """The process's metric series, then its run-duration and exception-count series."""
    process = get_process(conn, project_id=project_id, process_id=process_id)
    ids = run_store.metric_series_ids(conn, project_id=project_id, process_id=process_id)
    ids += [process.duration_series_id, process.exceptions_series_id]
    found = [series_store.get_series(conn, project_id=project_id, series_id=i) for i in ids]
    return [row for row in found if row is not None]


def runs_with_uid(conn: Connection, *, project_id: int, uid: str, limit: int) -> list[RunRow]:
    """Runs of any process of the project with this uid, newest first (the web's links)."""
    if not uid:
        return []
    return run_store.runs_with_uid(conn, project_id=project_id, uid=uid, limit=limit)
