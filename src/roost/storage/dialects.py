"""Every difference between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.dialects import postgresql, sqlite

POSTGRESQL = "postgresql"


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == POSTGRESQL


def sequence_name(table: str) -> str:
    return f"{table}_id_seq"


def next_id(conn: Connection, table: str) -> int:
    """A new global id for ``table``, drawn inside the caller's transaction.

    Run at driver level: every run, exception and event row draws one, and SQLAlchemy's
    statement handling would cost several times the database's own work.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if is_postgresql(conn):
            cursor.execute("SELECT nextval(%s)", (sequence_name(table),))
        else:
            # One statement: SQLite serialises writers, so the bumped value is ours alone.
            cursor.execute(_SQLITE_NEXT_ID, (table,))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        raise LookupError(f"no id counter for table {table!r}")
    return int(row[0])


_SQLITE_NEXT_ID = "UPDATE id_counters SET value = value + 1 WHERE name = ? RETURNING value"


def reserve_ids(conn: Connection, table: str, count: int) -> list[int]:
    """``count`` new global ids for ``table``, ascending, drawn in one statement.

    The reservation is part of the caller's transaction on SQLite (a rollback returns it);
    PostgreSQL sequences never give an id twice either way. Unused ids are simply skipped.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if is_postgresql(conn):
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", (sequence_name(table), count)
            )
            return sorted(int(row[0]) for row in cursor.fetchall())
        cursor.execute(_SQLITE_RESERVE_IDS, (count, table))
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is None:
        raise LookupError(f"no id counter for table {table!r}")
    last = int(row[0])
    return list(range(last - count + 1, last + 1))


_SQLITE_RESERVE_IDS = "UPDATE id_counters SET value = value + ? WHERE name = ? RETURNING value"


def driver_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement written with ``?`` placeholders at driver level; its rows, if any.

    For the few statements every ingest request runs (HawkFlow's run matching): SQLAlchemy's
    per-execute work costs more than SQLite's own, and the writer thread is the bottleneck.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_postgresql_sql(sql) if is_postgresql(conn) else sql, params)
        return cursor.fetchall() if cursor.description else []
    finally:
        cursor.close()


@cache
def _postgresql_sql(sql: str) -> str:
    """psycopg's placeholders are ``%s`` (the hot statements never contain a literal ``?``)."""
    return sql.replace("?", "%s")


def insert_ignoring_conflicts(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """INSERT … ON CONFLICT DO NOTHING (both engines spell it the same, via their dialect)."""
    dialect_insert = postgresql.insert if is_postgresql(conn) else sqlite.insert
    conn.execute(dialect_insert(table).on_conflict_do_nothing(), list(rows))


@contextmanager
def leader_lease(engine: Engine, name: str) -> Iterator[bool]:
    """Hold a leader lease for a background job for as long as the block runs.

    With several nodes on one PostgreSQL only the node that gets the session-level advisory
    lock runs the job this round (the lock lives on a connection kept for the block, so it
    covers every write the job makes); SQLite has one node by construction.
    """
    if engine.dialect.name != POSTGRESQL:
        yield True
        return
    key = sum(ord(ch) * 31**i for i, ch in enumerate(name)) % (2**31)
    with engine.connect() as conn:
        conn.commit()  # leave the autobegun transaction: the lock is per session
        taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield taken
        finally:
            if taken:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


# Statements run once per group commit, as plain driver SQL: SQLAlchemy's per-statement
# overhead would otherwise be paid on the ingest path for every transaction.
_POINTS_INSERT = "INSERT INTO points (project_id, series_id, ts, value) VALUES {rows}"
_ROLLUP_UPSERT = (
    "INSERT INTO rollups (project_id, series_id, tier, bucket, count, sum, min, max) "
    "VALUES {rows} "
    "ON CONFLICT (project_id, series_id, tier, bucket) DO UPDATE SET "
    "count = rollups.count + excluded.count, sum = rollups.sum + excluded.sum, "
    "min = {least}(rollups.min, excluded.min), max = {greatest}(rollups.max, excluded.max)"
)
_LAST_UPDATE = (
    "UPDATE series SET last_ts = {p}, last_value = {p} "
    "WHERE project_id = {p} AND id = {p} AND (last_ts IS NULL OR last_ts <= {p})"
)
# SQLite allows 32,766 bound values per statement.
_SQLITE_MAX_VALUES = 32_000


@dataclass(frozen=True)
class IngestSql:
    """The group commit's three statements for one dialect."""

    postgresql: bool
    points: str
    rollups: str
    last_values: str

    def insert_points(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        self._insert(cursor, self.points, rows, width=4)

    def upsert_rollups(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        self._insert(cursor, self.rollups, rows, width=8)

    def update_last_values(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        cursor.executemany(self.last_values, rows)

    def _insert(
        self, cursor: Any, template: str, rows: Sequence[tuple[Any, ...]], width: int
    ) -> None:
        insert_rows(cursor, template, rows, width, postgresql=self.postgresql)


@cache
def ingest_sql(dialect_name: str) -> IngestSql:
    if dialect_name == POSTGRESQL:
        return IngestSql(
            True,
            _POINTS_INSERT,
            _ROLLUP_UPSERT.replace("{least}", "least").replace("{greatest}", "greatest"),
            _LAST_UPDATE.format(p="%s"),
        )
    # SQLite's two-argument min()/max() are scalar functions, not aggregates.
    return IngestSql(
        False,
        _POINTS_INSERT,
        _ROLLUP_UPSERT.replace("{least}", "min").replace("{greatest}", "max"),
        _LAST_UPDATE.format(p="?"),
    )


def insert_rows(
    cursor: Any,
    template: str,
    rows: Sequence[tuple[Any, ...]],
    width: int,
    *,
    postgresql: bool,
) -> None:
    """Run ``template`` (SQL with ``{rows}`` where the VALUES list goes) for many rows.

    PostgreSQL: ``executemany``, which psycopg pipelines into one round trip. SQLite: as few
    multi-row statements as its bound-value limit allows, because pysqlite releases the GIL
    around every row of an ``executemany``; with the event loop busy the writer would then wait
    for the GIL once per row, where one statement per chunk waits once.
    """
    if not rows:
        return
    if postgresql:
        cursor.executemany(template.format(rows="(" + ", ".join(["%s"] * width) + ")"), rows)
        return
    per_statement = _SQLITE_MAX_VALUES // width
    row_marks = "(" + ",".join("?" * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = template.format(rows=",".join([row_marks] * len(chunk)))
        cursor.execute(sql, [value for row in chunk for value in row])


def insert_many(
    conn: Connection, template: str, rows: Sequence[tuple[Any, ...]], width: int
) -> None:
    """``insert_rows`` on the connection's driver cursor (SQLAlchemy's per-row parameter
    handling would cost more than the insert)."""
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        insert_rows(cursor, template, rows, width, postgresql=is_postgresql(conn))
    finally:
        cursor.close()
