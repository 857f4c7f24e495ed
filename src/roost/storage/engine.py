"""Engines and connection set-up: SQLite pragmas, explicit transaction control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from roost.settings import Settings

# Readers never block the writer (and vice versa): WAL keeps old pages for readers.
SQLITE_JOURNAL_MODE = "WAL"
# A writer from another process (the CLI creating a key while the server runs) waits instead
# of failing at once.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_store_engine(settings: Settings, *, writer: bool) -> Engine:
    """An engine for reads, or for the single writer connection.

    On SQLite the writer begins its transactions with ``BEGIN IMMEDIATE`` so it holds the
    write lock from the first statement: ids drawn from ``id_counters`` can never collide
    with another process's, and a conflict shows up at BEGIN rather than at COMMIT.
    """
    url = settings.resolved_database_url()
    if not is_sqlite_url(url):
        options: dict[str, Any] = {"pool_pre_ping": True}
        if writer:
            options.update(pool_size=1, max_overflow=2)
        else:
            options.update(pool_size=10, max_overflow=20)
        return create_engine(url, **options)

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    synchronous = settings.sqlite_synchronous.value
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the "begin" hook below); pysqlite's own
        # implicit BEGIN would otherwise break SAVEPOINTs.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA journal_mode={SQLITE_JOURNAL_MODE}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight to the driver: the writer begins a transaction per group commit, and
        # exec_driver_sql's statement handling cost more than SQLite's BEGIN itself.
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine
