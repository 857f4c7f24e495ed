"""The store: engines for reading, the group-commit writer, migrations — one per app."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection

from roost.settings import Settings
from roost.storage import dialects, migrate
from roost.storage.engine import create_store_engine
from roost.storage.writer import Writer, WriteTx, run_in_transaction

T = TypeVar("T")


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.read_engine = create_store_engine(settings, writer=False)
        self.write_engine = create_store_engine(settings, writer=True)
        self.writer = Writer(
            self.write_engine,
            queue_size=settings.write_queue_size,
            batch_max=settings.write_batch_max,
            messages=settings.agent_messages,
        )

    @property
    def dialect(self) -> str:
        return self.read_engine.dialect.name

    def upgrade(self) -> None:
        migrate.upgrade(self.write_engine)

    def start(self) -> None:
        self.upgrade()
        self.writer.start()

    def close(self) -> None:
        self.writer.stop()
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

    def leader(self, name: str) -> AbstractContextManager[bool]:
        """True inside the block when this node should run background job ``name``."""
        return dialects.leader_lease(self.read_engine, name)

    def write_now(self, job: Callable[[WriteTx], T]) -> T:
        """Run a write in its own transaction, bypassing the writer (CLI, start-up)."""
        return run_in_transaction(self.write_engine, job, messages=self.settings.agent_messages)
