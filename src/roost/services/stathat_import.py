"""Import a StatHat account: the job, its stats, and the background runner.

A job pages through the source's ``statlist`` into one row per stat, then imports each stat's
history (``stathat_history``), a few stats side by side, and ends ``done`` or ``failed``. The
server runs its jobs in the background on one node (a leader lease); the CLI runs its own in
the foreground. Every step commits with the job's counters, so a job cut off at any moment
(a restart, SIGKILL, Ctrl-C) goes on from its last commit without counting anything twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from sqlalchemy import Connection

from roost.domain.errors import RoostError
from roost.domain.stathat import DEFAULT_BASE_URL
from roost.domain.stats import parse_stat_name
from roost.domain.times import now_ms
from roost.services import stathat_history as history
from roost.services.stathat_history import read
from roost.services.stathat_source import (
    ImportFailed,
    SourceStat,
    StatFailed,
    StatHatSource,
    parse_stat,
)
from roost.storage import imports as import_store
from roost.storage.imports import ImportRow, ImportStatRow
from roost.storage.store import Store
from roost.storage.writer import QueueFull, WriterStopped, WriteTx

log = logging.getLogger(__name__)

LEADER_LOCK = "roost.stathat-import"
POLL_SECONDS = 5.0
STATLIST_PAGE = 10_000
MAX_STATLIST_PAGES = 100
MAX_ERRORS = 100
# Stats imported side by side; each has its own place, so a resumed job is still exact.
PARALLEL_STATS = 4
SERVER, CLI = "server", "cli"


class ImportRunning(RoostError):
    """The project already has an unfinished import of this runner."""


@dataclass
class Tally:
    """What a progress display shows; updated as chunks commit."""

    stats_total: int = 0
    stats_done: int = 0
    points_imported: int = 0


Progress = Callable[[Tally], None]


# -- starting and reading jobs ---------------------------------------------------------------


def create_import(
    tx: WriteTx,
    *,
    project_id: int,
    access_token: str,
    base_url: str = DEFAULT_BASE_URL,
    runner: str = SERVER,
    now: int,
) -> ImportRow:
    """A queued import; refused while the project has an unfinished one of the same runner."""
    running = import_store.unfinished_imports(tx.conn, runner=runner, project_id=project_id)
    if running:
        raise ImportRunning(f"import {running[0].id} is still {running[0].state}")
    return import_store.insert_import(
        tx.conn,
        project_id=project_id,
        runner=runner,
        base_url=base_url,
        access_token=access_token,
        snapshot_at=now,
        created_at=now,
    )


def resume_or_create_cli_import(
    tx: WriteTx, *, project_id: int, access_token: str, base_url: str, now: int
) -> ImportRow:
    """The CLI's job: the unfinished one for this project and source (resumed), or a new one."""
    for job in import_store.unfinished_imports(
        tx.conn, runner=CLI, project_id=project_id, base_url=base_url
    ):
        import_store.update_import(
            tx.conn, project_id=project_id, import_id=job.id, access_token=access_token
        )
        return job
    return create_import(
        tx,
        project_id=project_id,
        access_token=access_token,
        base_url=base_url,
        runner=CLI,
        now=now,
    )


def get_import(conn: Connection, *, project_id: int, import_id: int | None) -> ImportRow | None:
    """One import of the project, or its latest when no id is given."""
    if import_id is None:
        return import_store.latest_import(conn, project_id=project_id)
    return import_store.get_import(conn, project_id=project_id, import_id=import_id)


# -- running a job ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What every step of one running job needs."""

    store: Store
    row: ImportRow
    source: StatHatSource
    tally: Tally
    progress: Progress | None

    @property
    def ids(self) -> dict[str, Any]:
        return {"project_id": self.row.project_id, "import_id": self.row.id}

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.tally)


async def run_import(
    store: Store,
    *,
    project_id: int,
    import_id: int,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportRow | None:
    """Run (or resume) one import to its end; returns its final row."""
    ids: dict[str, Any] = {"project_id": project_id, "import_id": import_id}
    row = await read(store, import_store.get_import, **ids)
    if row is None or row.state not in import_store.UNFINISHED or row.access_token is None:
        return row
    await store.write(partial(_begin, **ids, now=now_ms()))
    tally = Tally(row.stats_total, row.stats_done, row.points_imported)
    settings = store.settings
    source = StatHatSource(
        row.base_url,
        row.access_token,
        timeout=settings.stathat_import_timeout_seconds,
        attempts=settings.stathat_import_attempts,
        transport=transport,
    )
    try:
        async with source:
            job = _Job(store, row, source, tally, progress)
            job.report()
            if not row.listed:
                await _list_stats(job)
            while batch := await read(
                store, import_store.pending_stats, **job.ids, limit=PARALLEL_STATS
            ):
                await _import_batch(job, batch)
        state, problem = "done", None
    except ImportFailed as exc:
        state, problem = "failed", str(exc)
    except (QueueFull, WriterStopped):
        raise  # the server is busy or stopping: the job goes on at a later pass
    except Exception as exc:  # a bug: fail this job rather than retry it forever
        log.exception("StatHat import %s failed", import_id)
        state, problem = "failed", f"internal error ({type(exc).__name__}); see the server log"
    await store.write(partial(_end, **ids, state=state, problem=problem, now=now_ms()))
    return await read(store, import_store.get_import, **ids)


def _begin(tx: WriteTx, *, project_id: int, import_id: int, now: int) -> None:
    job = import_store.get_import(tx.conn, project_id=project_id, import_id=import_id)
    if job is not None and job.started_at is None:
        import_store.update_import(
            tx.conn, project_id=project_id, import_id=import_id, started_at=now
        )
    import_store.update_import(tx.conn, project_id=project_id, import_id=import_id, state="running")


def _end(
    tx: WriteTx, *, project_id: int, import_id: int, state: str, problem: str | None, now: int
) -> None:
    if problem is not None:
        _note(tx, project_id=project_id, import_id=import_id, message=problem)
    # The token is needed only to resume; a finished job keeps no secret.
    import_store.update_import(
        tx.conn,
        project_id=project_id,
        import_id=import_id,
        state=state,
        access_token=None,
        finished_at=now,
    )


def _note(tx: WriteTx, *, project_id: int, import_id: int, message: str) -> None:
    job = import_store.get_import(tx.conn, project_id=project_id, import_id=import_id)
    if job is not None and len(job.errors) < MAX_ERRORS:
        import_store.update_import(
            tx.conn, project_id=project_id, import_id=import_id, errors=[*job.errors, message]
        )


async def _list_stats(job: _Job) -> None:
    """Page through the source's statlist into the job's stat rows (repeatable after a crash)."""
    position, seen = 0, set()
    for page in range(MAX_STATLIST_PAGES):
        items = await job.source.statlist(offset=page * STATLIST_PAGE)
        rows, skipped = [], []
        for index, item in enumerate(items):
            stat = _checked(item)
            if stat is None:
                skipped.append(
                    f"statlist entry {page * STATLIST_PAGE + index}: not a stat; skipped"
                )
                continue
            if stat.id in seen:
                continue
            seen.add(stat.id)
            rows.append(_stat_row(job, stat, position))
            position += 1
        await job.store.write(partial(_add_stats, **job.ids, rows=rows, skipped=skipped))
        if len(items) < STATLIST_PAGE:
            break
    job.tally.stats_total = position
    await job.store.write(partial(_listed, **job.ids, total=position))
    job.report()


def _checked(item: object) -> SourceStat | None:
    stat = parse_stat(item)
    if stat is None:
        return None
    try:
        parse_stat_name(stat.name, "name")
    except RoostError:
        return None
    return stat


def _stat_row(job: _Job, stat: SourceStat, position: int) -> dict[str, Any]:
    return {
        **job.ids,
        "position": position,
        "source_id": stat.id,
        "name": stat.name.strip(),
        "counter": stat.counter,
        "classic_key": stat.classic_key,
        "received_at": stat.received_at,
    }


def _add_stats(
    tx: WriteTx,
    *,
    project_id: int,
    import_id: int,
    rows: list[dict[str, Any]],
    skipped: list[str],
) -> None:
    import_store.add_import_stats(tx.conn, rows)
    for message in skipped:
        _note(tx, project_id=project_id, import_id=import_id, message=message)


def _listed(tx: WriteTx, *, project_id: int, import_id: int, total: int) -> None:
    import_store.update_import(
        tx.conn, project_id=project_id, import_id=import_id, listed=True, stats_total=total
    )


async def _import_batch(job: _Job, batch: list[ImportStatRow]) -> None:
    """A few stats at once: one's answers travel while another's chunk commits."""
    try:
        async with asyncio.TaskGroup() as group:
            for stat in batch:
                group.create_task(_import_stat(job, stat))
    except* ImportFailed as failed:  # the others were cancelled; their chunks stay committed
        raise failed.exceptions[0] from None


async def _import_stat(job: _Job, stat: ImportStatRow) -> None:
    def counted(points: int) -> None:
        job.tally.points_imported += points
        job.report()

    try:
        await history.import_history(
            job.store,
            job.source,
            project_id=job.row.project_id,
            import_id=job.row.id,
            snapshot_at=job.row.snapshot_at,
            stat=stat,
            on_points=counted,
        )
        outcome: str | None = None
    except StatFailed as exc:
        outcome = f"stat {stat.name!r}: {exc}"
    await job.store.write(partial(_stat_done, **job.ids, position=stat.position, problem=outcome))
    job.tally.stats_done += 1
    job.report()


def _stat_done(
    tx: WriteTx, *, project_id: int, import_id: int, position: int, problem: str | None
) -> None:
    import_store.update_import_stat(
        tx.conn,
        project_id=project_id,
        import_id=import_id,
        position=position,
        state="done" if problem is None else "failed",
    )
    import_store.add_progress(
        tx.conn, project_id=project_id, import_id=import_id, points=0, stats_done=1
    )
    if problem is not None:
        _note(tx, project_id=project_id, import_id=import_id, message=problem)


# -- the background runner -------------------------------------------------------------------


class ImportRunner:
    """Runs the server's queued and interrupted imports, one at a time, on one node.

    A restarted server resumes what was running at its first pass; ``wake`` starts a new job
    at once instead of at the next poll.
    """

    def __init__(self, store: Store, *, transport: httpx.AsyncBaseTransport | None = None):
        self._store = store
        self._transport = transport
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_pending()
            except Exception:  # retried at the next poll
                log.exception("StatHat import pass failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def run_pending(self) -> int:
        """Run every unfinished server import; returns how many were run."""
        with self._store.leader(LEADER_LOCK) as leading:
            if not leading:  # another node runs imports
                return 0
            jobs = await read(self._store, import_store.unfinished_imports, runner=SERVER)
            for row in jobs:
                await run_import(
                    self._store,
                    project_id=row.project_id,
                    import_id=row.id,
                    transport=self._transport,
                )
            return len(jobs)
