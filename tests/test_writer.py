"""The group-commit writer: shared transactions, isolated failures, bounded queue, 2xx = COMMIT.

Jobs here insert projects through ``roost.storage.tenancy``, so every outcome is checked in a
real table of a real database. To put several jobs in one batch deterministically, a *gate*
job first holds the writer thread; the jobs queue up behind it and are released together.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from roost.storage import tenancy
from roost.storage.store import Store
from roost.storage.writer import QueueFull, Writer, WriterStopped, WriteTx

CREATED_AT = 1_700_000_000_000
WAIT_S = 10.0  # every wait in this file is bounded by this

Submit = Callable[[Callable[[WriteTx], Any]], Awaitable[Any]]


def unique_name() -> str:
    return f"writer-{uuid.uuid4().hex[:12]}"


def insert_project(tx: WriteTx, *, name: str) -> int:
    return tenancy.insert_project(tx.conn, name=name, created_at=CREATED_AT).id


def insert_then_raise(tx: WriteTx, *, name: str) -> None:
    insert_project(tx, name=name)
    raise RuntimeError(f"job for {name} failed after writing")


def project_exists(store: Store, name: str) -> bool:
    """Look the project up on a brand-new connection (no pool, no shared snapshot)."""
    engine = create_engine(store.settings.resolved_database_url(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return tenancy.find_project(conn, name) is not None
    finally:
        engine.dispose()


class Gate:
    """A job that holds the writer thread until released (bounded by WAIT_S)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def job(self, tx: WriteTx) -> str:
        self.entered.set()
        if not self.release.wait(WAIT_S):
            raise TimeoutError("the gate was never released")
        return "gate"


@contextmanager
def released_at_exit(gate: Gate) -> Iterator[Gate]:
    # A failing assertion must not leave the shared writer blocked for the next test.
    try:
        yield gate
    finally:
        gate.release.set()


async def hold_writer(submit: Submit, gate: Gate) -> asyncio.Task[Any]:
    """Submit the gate job and wait until the writer thread is inside it."""
    held = asyncio.create_task(submit(gate.job))  # type: ignore[arg-type]
    assert await asyncio.to_thread(gate.entered.wait, WAIT_S), "the writer never ran the gate"
    return held


async def queued(coroutines: list[Coroutine[Any, Any, Any]]) -> list[asyncio.Task[Any]]:
    """Start each submission and return once all of them sit in the writer's queue."""
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    await asyncio.sleep(0)  # one loop turn: every task runs up to awaiting its future
    return tasks


async def outcomes(tasks: list[asyncio.Task[Any]]) -> list[Any]:
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), WAIT_S)


def run_behind_a_held_writer(store: Store, jobs: Sequence[Callable[[WriteTx], Any]]) -> list[Any]:
    """Queue the jobs behind a gate, release them together, and return every outcome.

    The first outcome is the gate's (``"gate"``), then each job's result in order, or the
    exception it failed with.
    """

    async def scenario() -> list[Any]:
        with released_at_exit(Gate()) as gate:
            held = await hold_writer(store.write, gate)
            tasks = await queued([store.write(job) for job in jobs])
        results = await outcomes(tasks)
        return [await asyncio.wait_for(held, WAIT_S), *results]

    return asyncio.run(scenario())


# -- group commit ------------------------------------------------------------------------


def test_many_concurrent_submits_share_fewer_transactions_than_jobs(store: Store) -> None:
    names = [unique_name() for _ in range(200)]

    async def scenario() -> list[Any]:
        jobs = [store.write(partial(insert_project, name=name)) for name in names]
        return await asyncio.wait_for(asyncio.gather(*jobs), WAIT_S)

    before = store.writer.commits
    ids = asyncio.run(scenario())
    assert store.writer.commits - before < len(names)
    assert len(set(ids)) == len(names)
    assert all(project_exists(store, name) for name in names[:: len(names) // 10])


def test_jobs_queued_behind_a_busy_writer_commit_in_one_transaction(store: Store) -> None:
    names = [unique_name() for _ in range(50)]

    before = store.writer.commits
    gate, *ids = run_behind_a_held_writer(store, [partial(insert_project, name=n) for n in names])
    assert gate == "gate"
    # One commit for the gate, one for all fifty jobs that waited behind it.
    assert store.writer.commits - before == 2
    assert all(isinstance(project_id, int) for project_id in ids)
    assert all(project_exists(store, name) for name in names)


# -- failures stay with their job --------------------------------------------------------


def test_a_job_that_raises_fails_alone_while_its_batch_neighbours_commit(store: Store) -> None:
    before_name, bad_name, after_name = unique_name(), unique_name(), unique_name()
    jobs: list[Callable[[WriteTx], Any]] = [
        partial(insert_project, name=before_name),
        partial(insert_then_raise, name=bad_name),
        partial(insert_project, name=after_name),
    ]

    before = store.writer.commits
    _, first, failed, last = run_behind_a_held_writer(store, jobs)
    assert isinstance(first, int) and isinstance(last, int)
    assert isinstance(failed, RuntimeError) and bad_name in str(failed)
    assert store.writer.commits - before == 2  # the gate's, and the batch's single commit
    assert project_exists(store, before_name)
    assert project_exists(store, after_name)
    assert not project_exists(store, bad_name)  # its insert was rolled back with it


def test_a_database_error_in_one_job_does_not_abort_its_neighbours(store: Store) -> None:
    # A unique violation aborts the whole transaction on PostgreSQL; the batch must recover.
    taken, before_name, after_name = unique_name(), unique_name(), unique_name()
    asyncio.run(store.write(partial(insert_project, name=taken)))
    jobs = [partial(insert_project, name=name) for name in (before_name, taken, after_name)]

    _, first, duplicate, last = run_behind_a_held_writer(store, jobs)
    assert isinstance(duplicate, IntegrityError)
    assert isinstance(first, int) and isinstance(last, int)
    assert project_exists(store, before_name) and project_exists(store, after_name)


def test_a_returned_exception_is_delivered_as_that_jobs_error_without_a_replay(
    store: Store,
) -> None:
    refusal = ValueError("refused before writing")
    runs: list[str] = []
    neighbour = unique_name()

    def refuse(tx: WriteTx) -> ValueError:
        runs.append("refuse")
        return refusal

    def write_neighbour(tx: WriteTx) -> int:
        runs.append("neighbour")
        return insert_project(tx, name=neighbour)

    _, refused, written = run_behind_a_held_writer(store, [refuse, write_neighbour])
    assert refused is refusal
    assert isinstance(written, int)
    assert project_exists(store, neighbour)
    assert sorted(runs) == ["neighbour", "refuse"]  # each ran once: nothing was replayed


# -- the queue's bound -------------------------------------------------------------------


def test_a_full_queue_refuses_at_once_with_queue_full(store: Store) -> None:
    writer = Writer(store.write_engine, queue_size=1, batch_max=1)
    writer.start()
    name = unique_name()

    async def scenario() -> None:
        with released_at_exit(Gate()) as gate:
            held = await hold_writer(writer.submit, gate)
            (waiting,) = await queued([writer.submit(partial(insert_project, name=name))])
            with pytest.raises(QueueFull):
                await writer.submit(partial(insert_project, name=unique_name()))
        assert await asyncio.wait_for(held, WAIT_S) == "gate"
        assert isinstance(await asyncio.wait_for(waiting, WAIT_S), int)
        # Once drained, the writer takes jobs again.
        assert await asyncio.wait_for(writer.submit(lambda tx: "again"), WAIT_S) == "again"

    try:
        asyncio.run(scenario())
    finally:
        writer.stop(timeout=WAIT_S)
    assert project_exists(store, name)


def test_a_writer_that_is_not_running_refuses_with_writer_stopped(store: Store) -> None:
    writer = Writer(store.write_engine, queue_size=1, batch_max=1)

    async def submit() -> None:
        await writer.submit(lambda tx: None)

    with pytest.raises(WriterStopped):
        asyncio.run(submit())
    writer.start()
    writer.stop(timeout=WAIT_S)
    with pytest.raises(WriterStopped):
        asyncio.run(submit())


# -- acknowledged means committed --------------------------------------------------------


def test_a_job_is_not_acknowledged_until_its_transaction_commits(store: Store) -> None:
    name = unique_name()
    inside, release = threading.Event(), threading.Event()

    def slow_insert(tx: WriteTx) -> int:
        project_id = insert_project(tx, name=name)
        inside.set()
        if not release.wait(WAIT_S):
            raise TimeoutError("never released")
        return project_id

    async def scenario() -> None:
        try:
            task = asyncio.create_task(store.write(slow_insert))
            assert await asyncio.to_thread(inside.wait, WAIT_S)
            # The row is written but not committed: no answer yet, and nobody else sees it.
            await asyncio.sleep(0.05)
            assert not task.done()
            assert not project_exists(store, name)
        finally:
            release.set()
        await asyncio.wait_for(task, WAIT_S)
        assert project_exists(store, name)

    asyncio.run(scenario())


def test_every_acknowledged_write_is_visible_to_a_fresh_connection(store: Store) -> None:
    names = [unique_name() for _ in range(20)]

    async def write_then_look(name: str) -> bool:
        await store.write(partial(insert_project, name=name))
        return project_exists(store, name)

    async def scenario() -> list[bool]:
        return await asyncio.wait_for(asyncio.gather(*map(write_then_look, names)), WAIT_S)

    assert asyncio.run(scenario()) == [True] * len(names)
