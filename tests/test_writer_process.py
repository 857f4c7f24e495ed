"""The ingest writer process: jobs commit in a child, errors and results cross back, a dead
child is replaced, stop finishes what was accepted, and the two writers share SQLite's lock.

Each test starts its own ``ProcessWriter`` on the session's database (both dialects), except
the first, which checks the app's own. Jobs are module-level functions of this file: the
child imports this module to run them, as it imports ``roost.services`` for real ingest. A
job that must wait for the test waits on a file (the child is another process), bounded by
WAIT_S.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvloop

from roost.domain.errors import InvalidInput
from roost.domain.portable import compact_pickle
from roost.domain.processes import Metric, ProcessKey
from roost.domain.stats import Kind, PointGroup, PointInput
from roost.domain.traces import TraceEvent, Usage
from roost.services import traces
from roost.settings import Settings
from roost.storage.store import Store
from roost.storage.writer import WriterStopped, WriteTx
from roost.storage.writer_process import ProcessWriter
from roostserver import create_key, roost_env, roost_server
from test_writer import WAIT_S, insert_project, insert_then_raise, project_exists, unique_name

POLL_S = 0.01


def child_pid(tx: WriteTx) -> int:
    return os.getpid()


def refuse(tx: WriteTx, *, field: str) -> InvalidInput:
    return InvalidInput(field, "must be a number")


def insert_and_return_a_lock(tx: WriteTx, *, name: str) -> Any:
    insert_project(tx, name=name)
    return threading.Lock()  # cannot be pickled back to the server


def wait_for_file(path: Path) -> bool:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


def held_then_insert(tx: WriteTx, *, folder: str, name: str) -> int:
    """Say "entered", wait for "release" (bounded), then insert."""
    Path(folder, "entered").touch()
    if not wait_for_file(Path(folder, "release")):
        raise TimeoutError("never released")
    return insert_project(tx, name=name)


@contextmanager
def running(settings: Settings, store: Store) -> Iterator[ProcessWriter]:
    turn = store_turn(store)
    writer = ProcessWriter(settings, turn=turn)
    writer.start()
    try:
        yield writer
    finally:
        writer.stop(timeout=WAIT_S)


def store_turn(store: Store) -> Any:
    """The store's own turn, so a test's child and the store's thread writer take turns."""
    return store.ingest_writer._turn if store.ingest_writer is not None else None


async def settled(writer: ProcessWriter, jobs: list[Any]) -> list[Any]:
    """Each job's result or exception, submitted in one loop iteration (one frame)."""
    return await asyncio.gather(*(writer.submit(job) for job in jobs), return_exceptions=True)


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, WAIT_S))


# -- the app's ingest path ---------------------------------------------------------------


def test_the_app_runs_ingest_jobs_in_its_child_process(store: Store) -> None:
    assert store.ingest_writer is not None
    pid = run(store.ingest(child_pid))
    assert pid == store.ingest_writer.child_pid != os.getpid()
    name = unique_name()
    assert isinstance(run(store.ingest(partial(insert_project, name=name))), int)
    assert project_exists(store, name)  # acknowledged, so committed


def test_without_the_setting_ingest_runs_on_the_thread_writer(settings: Settings) -> None:
    off = Store(settings.model_copy(update={"ingest_process": False}))
    try:
        assert off.ingest_writer is None
        off.start()
        assert run(off.ingest(child_pid)) == os.getpid()
    finally:
        off.close()


def test_an_in_memory_sqlite_database_keeps_ingest_in_process(tmp_path: Path) -> None:
    memory = Store(Settings(data_dir=tmp_path, database_url="sqlite:///:memory:"))
    try:
        assert memory.ingest_writer is None
    finally:
        memory.close()


# -- what crosses back -------------------------------------------------------------------


def test_many_jobs_commit_in_fewer_transactions(settings: Settings, store: Store) -> None:
    names = [unique_name() for _ in range(100)]
    with running(settings, store) as writer:

        async def scenario() -> list[Any]:
            jobs = [writer.submit(partial(insert_project, name=name)) for name in names]
            return await asyncio.gather(*jobs)

        ids = run(scenario())
        assert len(set(ids)) == len(names)
        assert writer.commits < len(names)
    assert all(project_exists(store, name) for name in names)


def test_an_error_keeps_its_class_and_field(settings: Settings, store: Store) -> None:
    with running(settings, store) as writer, pytest.raises(InvalidInput) as raised:
        run(writer.submit(partial(refuse, field="items[2].value")))
    refusal = raised.value
    assert (refusal.field, refusal.message) == ("items[2].value", "must be a number")
    assert str(refusal) == "items[2].value: must be a number"


def test_a_failing_job_fails_alone_and_its_neighbours_commit(
    settings: Settings, store: Store
) -> None:
    failing, neighbour = unique_name(), unique_name()
    with running(settings, store) as writer:
        jobs = [partial(insert_then_raise, name=failing), partial(insert_project, name=neighbour)]
        raised, written = run(settled(writer, jobs))
    assert isinstance(raised, RuntimeError)
    assert "failed after writing" in str(raised)
    assert isinstance(written, int)
    assert project_exists(store, neighbour)
    assert not project_exists(store, failing)


def test_a_job_that_cannot_cross_fails_at_once_and_others_go_on(
    settings: Settings, store: Store
) -> None:
    name = unique_name()
    with running(settings, store) as writer:
        # A lambda does not pickle.
        refused, written = run(
            settled(writer, [lambda tx: None, partial(insert_project, name=name)])
        )
    assert isinstance(refused, TypeError)
    assert "picklable" in str(refused)
    assert isinstance(written, int)
    assert project_exists(store, name)


def test_a_result_that_cannot_cross_back_is_reported_and_the_write_kept(
    settings: Settings, store: Store
) -> None:
    name = unique_name()
    with running(settings, store) as writer, pytest.raises(RuntimeError, match="lock"):
        run(writer.submit(partial(insert_and_return_a_lock, name=name)))
    assert project_exists(store, name)


# -- the child's life --------------------------------------------------------------------


def test_a_dead_child_fails_its_requests_and_is_replaced(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    held, after = unique_name(), unique_name()
    with running(settings, store) as writer:

        async def scenario() -> Any:
            job = partial(held_then_insert, folder=str(tmp_path), name=held)
            pending = asyncio.ensure_future(writer.submit(job))
            assert await asyncio.to_thread(wait_for_file, tmp_path / "entered")
            assert writer.child_pid is not None
            os.kill(writer.child_pid, signal.SIGKILL)  # the child this test started
            return await asyncio.gather(pending, return_exceptions=True)

        (lost,) = run(scenario())
        assert isinstance(lost, WriterStopped)
        assert not project_exists(store, held)  # the killed transaction left nothing
        assert writer.restarts == 1
        # The new child takes jobs, and the dead one's locks did not outlive it: both
        # writers still get their turn.
        assert isinstance(run(writer.submit(partial(insert_project, name=after))), int)
        assert isinstance(run(store.write(partial(insert_project, name=unique_name()))), int)
    assert project_exists(store, after)


def test_stop_finishes_every_accepted_job_first(settings: Settings, store: Store) -> None:
    names = [unique_name() for _ in range(50)]
    writer = ProcessWriter(settings)
    writer.start()
    child = writer.child_pid

    async def scenario() -> list[Any]:
        jobs = [
            asyncio.ensure_future(writer.submit(partial(insert_project, name=name)))
            for name in names
        ]
        await asyncio.sleep(0)  # every job is accepted and gathered
        stopping = asyncio.to_thread(writer.stop, WAIT_S)
        results = await asyncio.gather(*jobs, return_exceptions=True)
        await stopping
        return results

    results = run(scenario())
    assert all(isinstance(result, int) for result in results), results
    assert all(project_exists(store, name) for name in names)
    assert child is not None and not _alive(child)
    with pytest.raises(WriterStopped):
        run(writer.submit(partial(insert_project, name=unique_name())))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_thread_writer_waits_its_turn_while_the_child_writes(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    """On SQLite, while the child holds a transaction open, a thread-writer job neither
    fails ("database is locked") nor commits before it; both commit once the child lets go.
    PostgreSQL needs no turn: the other project's row commits meanwhile."""
    sqlite = store.dialect == "sqlite"
    held, waiting = unique_name(), unique_name()
    with running(settings, store) as writer:

        async def scenario() -> list[Any]:
            job = partial(held_then_insert, folder=str(tmp_path), name=held)
            first = asyncio.ensure_future(writer.submit(job))
            assert await asyncio.to_thread(wait_for_file, tmp_path / "entered")
            second = asyncio.ensure_future(store.write(partial(insert_project, name=waiting)))
            if sqlite:
                await asyncio.sleep(0.3)
                assert not second.done()
            else:
                await asyncio.wait_for(asyncio.shield(second), WAIT_S)
            (tmp_path / "release").touch()
            return await asyncio.gather(first, second)

        first_id, second_id = run(scenario())
    assert isinstance(first_id, int) and isinstance(second_id, int)
    assert project_exists(store, held) and project_exists(store, waiting)


# -- roost serve -------------------------------------------------------------------------


def test_roost_serve_ingests_through_its_child_and_stops_it(
    tmp_path: Path, fresh_database_url: Any
) -> None:
    env = roost_env(tmp_path, fresh_database_url(tmp_path))
    key = create_key(env, "serve-child")
    with roost_server(env, tmp_path / "serve.log") as server:
        children = _children(server.process.pid)
        assert len(children) >= 1  # the ingest writer (spawn may add its resource tracker)
        trackers = {pid for pid in children if b"resource_tracker" in _command_line(pid)}
        headers = {"x-hawkflow-api-key": key}
        body = {"process": "nightly", "meta": "", "uid": "r1"}
        for path in ("/v1/start", "/v1/end"):
            answer = httpx.post(f"{server.base_url}{path}", json=body, headers=headers)
            assert answer.status_code == 201, answer.text
        runs = httpx.get(
            f"{server.base_url}/api/v1/processes",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert runs.status_code == 200, runs.text
    # The server joins the ingest writer before it exits; multiprocessing's resource tracker
    # leaves on its own once it reads the end of its pipe, a moment later.
    assert not any(_alive(pid) for pid in children if pid not in trackers)
    deadline = time.monotonic() + TRACKER_EXIT_S
    while any(_alive(pid) for pid in trackers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in trackers)


TRACKER_EXIT_S = 10.0


def _command_line(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(child) for child in children)
    return found


# -- what ingest jobs carry --------------------------------------------------------------


def test_the_value_classes_of_ingest_jobs_cross_unchanged() -> None:
    event = TraceEvent(
        event_id="e1",
        session_id="s1",
        parent_id=None,
        event_type="model",
        event_name="chat",
        source="sdk",
        start_time=1.0,
        end_time=2.5,
        duration=1500.0,
        inputs={"prompt": "hi"},
        children_ids=["e2"],
    )
    values = [
        ProcessKey("nightly", "eu"),
        Metric("rows", 15664.0),
        PointInput("bench.requests", Kind.COUNTER, 1.0, 1_700_000_000_000),
        PointGroup("bench.requests", Kind.COUNTER, [0, 2], [1, 2], [1.0, 3.0]),
        event,
        Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7, cost=0.01),
        traces.prepare([event], received_at=1_700_000_000_000),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)) == value, value


def test_compact_pickle_refuses_a_class_with_a_field_outside_init() -> None:
    @dataclasses.dataclass
    class Derived:
        name: str
        size: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="__init__"):
        compact_pickle(Derived)


# -- answers read on the event loop ------------------------------------------------------
# A writer started on a running loop reads the child's answers on that loop (as the app's
# does, from its lifespan); started elsewhere, a thread reads them (the tests above).


def insert_with_payload(tx: WriteTx, *, name: str, payload: str) -> int:
    return insert_project(tx, name=name) + 0 * len(payload)


def on_its_own_loop(settings: Settings, store: Store, scenario: Any) -> Any:
    """Run ``scenario(writer)`` on the loop the writer was started on; stop it from a thread,
    as the app's lifespan does."""
    turn = store_turn(store)

    async def main() -> Any:
        writer = ProcessWriter(settings, turn=turn)
        writer.start()
        try:
            return await scenario(writer)
        finally:
            await asyncio.to_thread(writer.stop, WAIT_S)

    # uvloop, as under roost serve (its readers differ from asyncio's: non-blocking fds).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(asyncio.wait_for(main(), 3 * WAIT_S))


def test_on_its_loop_a_dead_child_is_replaced_too(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    held, after = unique_name(), unique_name()

    async def scenario(writer: ProcessWriter) -> list[Any]:
        job = partial(held_then_insert, folder=str(tmp_path), name=held)
        pending = asyncio.ensure_future(writer.submit(job))
        assert await asyncio.to_thread(wait_for_file, tmp_path / "entered")
        assert writer.child_pid is not None
        os.kill(writer.child_pid, signal.SIGKILL)  # the child this test started
        lost = await asyncio.gather(pending, return_exceptions=True)
        return [*lost, writer.restarts, await writer.submit(partial(insert_project, name=after))]

    lost, restarts, written = on_its_own_loop(settings, store, scenario)
    assert isinstance(lost, WriterStopped)
    assert restarts == 1
    assert isinstance(written, int)
    assert project_exists(store, after) and not project_exists(store, held)


def test_on_its_loop_stop_finishes_every_accepted_job(settings: Settings, store: Store) -> None:
    names = [unique_name() for _ in range(50)]

    async def scenario(writer: ProcessWriter) -> list[Any]:
        jobs = [
            asyncio.ensure_future(writer.submit(partial(insert_project, name=name)))
            for name in names
        ]
        await asyncio.sleep(0)
        await asyncio.to_thread(writer.stop, WAIT_S)  # while every job is in flight
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = on_its_own_loop(settings, store, scenario)
    assert all(isinstance(result, int) for result in results), results
    assert all(project_exists(store, name) for name in names)


def test_stop_called_on_the_blocked_loop_reads_the_last_answers_itself(
    settings: Settings, store: Store
) -> None:
    name = unique_name()

    async def scenario(writer: ProcessWriter) -> Any:
        job = asyncio.ensure_future(writer.submit(partial(insert_project, name=name)))
        await asyncio.sleep(0)
        writer.stop(WAIT_S)  # blocks this loop: its reader cannot run
        return await asyncio.wait_for(job, WAIT_S)

    assert isinstance(on_its_own_loop(settings, store, scenario), int)
    assert project_exists(store, name)


def test_frames_larger_than_the_pipe_go_through_the_sender_thread(
    settings: Settings, store: Store
) -> None:
    """A frame the pipe cannot take at once (here 3 MB) is not written from the loop, which
    must never block; the sender thread writes it while the child reads."""
    big, small = unique_name(), unique_name()
    payload = "x" * (3 << 20)

    async def scenario(writer: ProcessWriter) -> list[Any]:
        return await asyncio.gather(
            writer.submit(partial(insert_with_payload, name=big, payload=payload)),
            writer.submit(partial(insert_project, name=small)),
        )

    results = on_its_own_loop(settings, store, scenario)
    assert all(isinstance(result, int) for result in results)
    assert project_exists(store, big) and project_exists(store, small)


def big_result(tx: WriteTx, *, size: int) -> str:
    return "y" * size


def test_an_answer_larger_than_the_pipe_is_read_whole_on_the_loop(
    settings: Settings, store: Store
) -> None:
    """A large answer (a HoneyHive batch's event ids) reaches the loop in several reads."""

    async def scenario(writer: ProcessWriter) -> Any:
        return await writer.submit(partial(big_result, size=3 << 20))

    assert on_its_own_loop(settings, store, scenario) == "y" * (3 << 20)
