"""Projects (the tenants) and their API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, select, update

from roost.storage import dialects
from roost.storage.schema import api_keys, projects


@dataclass(frozen=True, slots=True)
class ProjectRow:
    id: int
    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    project_id: int
    name: str
    prefix: str
    scopes: str
    created_at: int
    revoked_at: int | None


def _project(row: RowMapping) -> ProjectRow:
    return ProjectRow(id=row["id"], name=row["name"], created_at=row["created_at"])


def _key(row: RowMapping) -> KeyRow:
    return KeyRow(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=row["scopes"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def find_project(conn: Connection, name: str) -> ProjectRow | None:
    row = conn.execute(select(projects).where(projects.c.name == name)).mappings().first()
    return _project(row) if row else None


def get_project(conn: Connection, project_id: int) -> ProjectRow | None:
    row = conn.execute(select(projects).where(projects.c.id == project_id)).mappings().first()
    return _project(row) if row else None


def count_projects(conn: Connection) -> int:
    return len(conn.execute(select(projects.c.id).limit(1)).all())


def insert_project(conn: Connection, *, name: str, created_at: int) -> ProjectRow:
    project_id = dialects.next_id(conn, "projects")
    conn.execute(projects.insert().values(id=project_id, name=name, created_at=created_at))
    return ProjectRow(id=project_id, name=name, created_at=created_at)


def insert_key(
    conn: Connection,
    *,
    project_id: int,
    name: str,
    prefix: str,
    key_hash: str,
    scopes: str,
    created_at: int,
) -> KeyRow:
    key_id = dialects.next_id(conn, "api_keys")
    conn.execute(
        api_keys.insert().values(
            project_id=project_id,
            id=key_id,
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            scopes=scopes,
            created_at=created_at,
        )
    )
    return KeyRow(key_id, project_id, name, prefix, scopes, created_at, None)


# Driver-level: every write transaction authenticates its keys, and SQLAlchemy's statement
# handling would cost several times SQLite's own work for this primary-key-sized lookup.
_ACTIVE_KEY = (
    "SELECT id, project_id, name, prefix, scopes, created_at, revoked_at FROM api_keys "
    "WHERE key_hash = ? AND revoked_at IS NULL"
)


def find_active_key(conn: Connection, key_hash: str) -> KeyRow | None:
    rows = dialects.driver_rows(conn, _ACTIVE_KEY, (key_hash,))
    return KeyRow(*rows[0]) if rows else None


def list_keys(conn: Connection, *, project_id: int) -> list[KeyRow]:
    rows = conn.execute(
        select(api_keys).where(api_keys.c.project_id == project_id).order_by(api_keys.c.id)
    ).mappings()
    return [_key(row) for row in rows]


def get_key(conn: Connection, key_id: int, *, project_id: int | None = None) -> KeyRow | None:
    stmt = select(api_keys).where(api_keys.c.id == key_id)
    if project_id is not None:
        stmt = stmt.where(api_keys.c.project_id == project_id)
    row = conn.execute(stmt).mappings().first()
    return _key(row) if row else None


def revoke_key(conn: Connection, *, project_id: int, key_id: int, revoked_at: int) -> bool:
    result = conn.execute(
        update(api_keys)
        .where(
            api_keys.c.project_id == project_id,
            api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=revoked_at)
    )
    return bool(result.rowcount)
