"""Every difference between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from roost.storage.schema import id_counters, rollups

POSTGRESQL = "postgresql"


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == POSTGRESQL


def sequence_name(table: str) -> str:
    return f"{table}_id_seq"


def next_id(conn: Connection, table: str) -> int:
    """A new global id for ``table``, drawn inside the caller's transaction."""
    if is_postgresql(conn):
        return int(conn.execute(text(f"SELECT nextval('{sequence_name(table)}')")).scalar_one())
    conn.execute(
        update(id_counters).where(id_counters.c.name == table).values(value=id_counters.c.value + 1)
    )
    return int(
        conn.execute(select(id_counters.c.value).where(id_counters.c.name == table)).scalar_one()
    )


def insert_ignoring_conflicts(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING (both engines spell it the same, via their dialect)."""
    dialect_insert = postgresql.insert if is_postgresql(conn) else sqlite.insert
    conn.execute(dialect_insert(table).on_conflict_do_nothing(), list(rows))


def upsert_rollups(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Merge roll-up partials into their buckets: counts and sums add, min/max widen."""
    if not rows:
        return
    if is_postgresql(conn):
        stmt = postgresql.insert(rollups)
        smallest, largest = func.least, func.greatest
    else:
        stmt = sqlite.insert(rollups)
        # SQLite's two-argument min()/max() are scalar functions, not aggregates.
        smallest, largest = func.min, func.max
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "series_id", "tier", "bucket"],
        set_={
            "count": rollups.c.count + excluded.count,
            "sum": rollups.c.sum + excluded.sum,
            "min": smallest(rollups.c.min, excluded.min),
            "max": largest(rollups.c.max, excluded.max),
        },
    )
    conn.execute(stmt, list(rows))


def leader_lock(conn: Connection, name: str) -> bool:
    """Take a transaction-scoped leader lease for a background job.

    With several nodes on one PostgreSQL only the node that gets the advisory lock runs the
    job this round; SQLite has one node by construction.
    """
    if not is_postgresql(conn):
        return True
    key = sum(ord(ch) * 31**i for i, ch in enumerate(name)) % (2**31)
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())
