"""Group commit: one thread per database drains pending writes into a single transaction.

A request hands the writer a *job* (a function of a ``WriteTx``) and awaits its future; the
future resolves only after COMMIT, so a 2xx answer always means the data is on disk.
Throughput comes from batching many requests into one commit, never from answering early.

A job that fails *before writing anything* may return its exception instead of raising it:
the writer delivers it as that request's error without disturbing the batch.

Jobs first run together, optimistically, in one transaction. If any of them raises, that
transaction is rolled back and the batch is replayed with one SAVEPOINT per job, so one bad
request fails alone and its neighbours still commit. Jobs are therefore pure functions of the
database state and their input (times are taken before submitting, never inside a job).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from roost.storage.points import PointBuffer

log = logging.getLogger(__name__)

T = TypeVar("T")


class QueueFull(Exception):
    """The writer has more pending jobs than allowed: answer 503 with Retry-After."""


class WriterStopped(Exception):
    """The writer is shutting down and takes no new jobs."""


@dataclass
class WriteTx:
    """What a job sees: the connection, buffered points and a memo for this transaction.

    The memo (e.g. series ids by name, keys by hash) lives exactly as long as the transaction,
    so it can never serve a value another transaction has since changed.
    """

    conn: Connection
    # Whether ingest jobs record ActiveWorkflow messages (the ``agent_messages`` setting).
    messages: bool = True
    points: PointBuffer = field(default_factory=PointBuffer)
    memo: dict[Any, Any] = field(default_factory=dict)
    # Other rows the jobs buffer (trace events), by name: each has ``flush(tx)`` and is
    # flushed before the points, which flushing it may add to.
    buffers: dict[str, Any] = field(default_factory=dict)

    def flush(self) -> None:
        for buffer in self.buffers.values():
            buffer.flush(self)
        self.points.flush(self.conn)


Job = Callable[[WriteTx], Any]


@dataclass
class _Pending:
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


_STOP = object()


def run_in_transaction(engine: Engine, job: Callable[[WriteTx], T], *, messages: bool = True) -> T:
    """Run one job synchronously in its own transaction (CLI, start-up tasks, tests)."""
    with engine.connect() as conn, conn.begin():
        tx = WriteTx(conn, messages)
        result = job(tx)
        tx.flush()
        return result


class Gatherer:
    """What every writer shares on the event loop's side: jobs are gathered per loop iteration
    and handed over together (``_dispatch``), and each request awaits its own future."""

    def __init__(self, *, queue_size: int) -> None:
        self._queue_size = queue_size
        self._stopping = False
        self._running = False
        # Jobs of the current event-loop iteration, per loop, not yet handed over.
        self._gathered: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        # Pending = accepted - taken; each counter is only ever bumped by one thread.
        self._accepted = 0
        self._taken = 0

    async def submit(self, job: Callable[[WriteTx], T | BaseException]) -> T:
        """Queue a job and wait for its commit; raises the job's own error if it failed."""
        if self._stopping or not self._running:
            raise WriterStopped("the server is shutting down")
        if self._accepted - self._taken >= self._queue_size:
            raise QueueFull("too many pending writes")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        gathered = self._gathered.get(loop)
        if gathered is None:
            # The first job of this loop iteration: hand the iteration's jobs over together
            # once the loop has run every ready request (one wake-up of the writer per
            # iteration, not one per request, which cost a GIL hand-off each).
            gathered = self._gathered[loop] = []
            loop.call_soon(self._hand_over, loop)
        gathered.append(_Pending(job, future, loop))
        self._accepted += 1
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        gathered = self._gathered.pop(loop, None)
        if gathered:
            self._dispatch(gathered)

    def _hand_over_all(self) -> None:
        for loop in list(self._gathered):
            self._hand_over(loop)

    def _dispatch(self, gathered: list[_Pending]) -> None:
        raise NotImplementedError


class Writer(Gatherer):
    def __init__(
        self,
        engine: Engine,
        *,
        queue_size: int,
        batch_max: int,
        messages: bool = True,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        super().__init__(queue_size=queue_size)
        self._engine = engine
        self._messages = messages
        # Held around each transaction when another process writes the same SQLite file
        # (see ``writer_process``): a fair turn instead of SQLite's busy-polling.
        self._lock = lock or contextlib.nullcontext()
        # Lists of jobs (one per event-loop iteration) and _STOP. SimpleQueue is implemented in
        # C: putting costs no Python-level locking on the event loop's thread. The size bound
        # (in jobs) is enforced in submit().
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._batch_max = batch_max
        self._thread: threading.Thread | None = None
        self.commits = 0  # transactions committed; read by tests and the benchmark

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="roost-writer", daemon=True)
        self._thread.start()
        self._running = True

    def stop(self, timeout: float = 30.0) -> None:
        """Finish every job already accepted, then stop the thread."""
        if self._thread is None:
            return
        self._stopping = True
        self._hand_over_all()
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None
        self._running = False

    def _dispatch(self, gathered: list[_Pending]) -> None:
        self._queue.put_nowait(gathered)

    # -- the writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        conn: Connection | None = None
        waiting: list[_Pending] = []  # handed over, beyond the last batch's size limit
        stopping = False
        while True:
            if not waiting:
                if stopping:
                    break
                item = self._queue.get()
                if item is _STOP:
                    break
                waiting = item
            # Everything else already handed over joins this transaction, up to the limit.
            while len(waiting) < self._batch_max and not stopping:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                else:
                    waiting.extend(item)
            batch, waiting = waiting[: self._batch_max], waiting[self._batch_max :]
            self._taken += len(batch)
            jobs = [pending.job for pending in batch]
            try:
                if conn is None:
                    conn = self._engine.connect()
                with self._lock:
                    outcomes, commits = execute_batch(conn, jobs, self._messages)
                self.commits += commits
            except Exception as exc:  # the connection or COMMIT failed: nothing was written
                log.exception("write transaction failed")
                outcomes = [exc] * len(batch)
                if conn is not None:
                    conn.invalidate()
                    conn.close()
                    conn = None
            deliver(batch, outcomes)
        if conn is not None:
            conn.close()


def execute_batch(conn: Connection, jobs: Sequence[Job], messages: bool) -> tuple[list[Any], int]:
    """Run ``jobs`` in one transaction; each job's result or exception, and the number of
    transactions committed. Raises only when the connection or COMMIT itself failed."""
    try:
        with conn.begin():
            tx = WriteTx(conn, messages)
            results = [job(tx) for job in jobs]
            tx.flush()
        return results, 1
    except Exception as exc:
        if len(jobs) == 1:
            return [exc], 0
        return _execute_isolated(conn, jobs, messages), 1


def _execute_isolated(conn: Connection, jobs: Sequence[Job], messages: bool) -> list[Any]:
    """Replay a batch with one savepoint per job: only the failing jobs fail."""
    outcomes: list[Any] = []
    with conn.begin():
        for job in jobs:
            savepoint = conn.begin_nested()
            tx = WriteTx(conn, messages)
            try:
                result = job(tx)
                tx.flush()
            except Exception as exc:
                savepoint.rollback()
                outcomes.append(exc)
            else:
                savepoint.commit()
                outcomes.append(result)
    return outcomes


def deliver(batch: Sequence[_Pending], outcomes: Sequence[Any]) -> None:
    """Resolve each job's future on its own event loop (callable from any thread)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for pending, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(pending.loop, []).append((pending.future, outcome))
    try:
        here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        here = None
    for loop, pairs in by_loop.items():
        if loop is here:  # called on that loop (the ingest process's answers): no wake-up
            _resolve(pairs)
            continue
        # One wake-up per event loop per batch, not one per request.
        # RuntimeError: that loop is closed, and its requests are gone with it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, pairs)


def _resolve(pairs: list[tuple[asyncio.Future[Any], Any]]) -> None:
    # A job may return an exception (failed before writing) or the batch may have raised it.
    for future, outcome in pairs:
        if future.done():  # the client went away and the request was cancelled
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
