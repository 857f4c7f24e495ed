"""The store: engines for reading, the group-commit writer, migrations — one per app."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from roost.settings import Settings
from roost.storage import dialects, migrate
from roost.storage.engine import create_store_engine
from roost.storage.writer import Writer, WriteTx, run_in_transaction
from roost.storage.writer_process import ProcessWriter, WriteTurn

T = TypeVar("T")


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.read_engine = create_store_engine(settings, writer=False)
        self.write_engine = create_store_engine(settings, writer=True)
        self.ingest_writer: ProcessWriter | None = None
        # The turn the two writers take on SQLite's one write lock (see writer_process).
        self._turn: AbstractContextManager[Any] = contextlib.nullcontext()
        if settings.ingest_process and _file_backed(self.write_engine):
            turn = None
            if self.write_engine.dialect.name == "sqlite":
                turn = WriteTurn(Path(f"{self.write_engine.url.database}.write-turn"))
                self._turn = turn
            self.ingest_writer = ProcessWriter(settings, turn=turn)
        self.writer = Writer(
            self.write_engine,
            queue_size=settings.write_queue_size,
            batch_max=settings.write_batch_max,
            messages=settings.agent_messages,
            lock=self._turn,
        )

    @property
    def dialect(self) -> str:
        return self.read_engine.dialect.name

    def upgrade(self) -> None:
        migrate.upgrade(self.write_engine)

    def start(self) -> None:
        self.upgrade()
        self.writer.start()
        if self.ingest_writer is not None:
            self.ingest_writer.start()

    def close(self) -> None:
        if self.ingest_writer is not None:
            self.ingest_writer.stop()
        self.writer.stop()
        if isinstance(self._turn, WriteTurn):
            self._turn.close()
        self.read_engine.dispose()
        self.write_engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads, in one transaction (a consistent snapshot)."""
        with self.read_engine.connect() as conn, conn.begin():
            yield conn

    def write(self, job: Callable[[WriteTx], T | BaseException]) -> Coroutine[Any, Any, T]:
        """Run a write through the group-commit writer; the awaitable returns after COMMIT.

        The writer's own coroutine, not a wrapper around it: one frame less per request."""
        return self.writer.submit(job)

    def ingest(self, job: Callable[[WriteTx], T | BaseException]) -> Coroutine[Any, Any, T]:
        """A write on an ingest path: in the ingest process when there is one.

        ``job`` must pickle (a ``functools.partial`` of a module-level function over plain
        data) and, like every job, depend only on its arguments and the database.
        """
        if self.ingest_writer is not None:
            return self.ingest_writer.submit(job)
        return self.writer.submit(job)

    def leader(self, name: str) -> AbstractContextManager[bool]:
        """True inside the block when this node should run background job ``name``."""
        return dialects.leader_lease(self.read_engine, name)

    def write_now(self, job: Callable[[WriteTx], T]) -> T:
        """Run a write in its own transaction, bypassing the writer (CLI, start-up)."""
        with self._turn:
            return run_in_transaction(self.write_engine, job, messages=self.settings.agent_messages)


def _file_backed(engine: Engine) -> bool:
    """False for an in-memory SQLite database, which a second process could not see."""
    database = engine.url.database
    return engine.dialect.name != "sqlite" or (bool(database) and database != ":memory:")
