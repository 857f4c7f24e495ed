"""SQL for public shares of a dashboard or a stat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select

from roost.storage import dialects
from roost.storage.schema import shares


@dataclass(frozen=True, slots=True)
class ShareRow:
    id: int
    project_id: int
    token: str
    dashboard_id: int | None
    stat_id: int | None
    created_at: int


def _share(row: RowMapping) -> ShareRow:
    return ShareRow(**dict(row))


def insert_share(
    conn: Connection,
    *,
    project_id: int,
    token: str,
    dashboard_id: int | None,
    stat_id: int | None,
    now: int,
) -> ShareRow:
    values: dict[str, Any] = {
        "project_id": project_id,
        "id": dialects.next_id(conn, "shares"),
        "token": token,
        "dashboard_id": dashboard_id,
        "stat_id": stat_id,
        "created_at": now,
    }
    conn.execute(insert(shares).values(values))
    return ShareRow(**values)


def list_shares(conn: Connection, *, project_id: int) -> list[ShareRow]:
    """Newest share first (by id)."""
    rows = conn.execute(
        select(shares).where(shares.c.project_id == project_id).order_by(shares.c.id.desc())
    ).mappings()
    return [_share(row) for row in rows]


def share_by_token(conn: Connection, token: str) -> ShareRow | None:
    """The share of a token, across projects: a public request knows nothing else."""
    found = conn.execute(select(shares).where(shares.c.token == token)).mappings().first()
    return _share(found) if found else None


def delete_share(conn: Connection, *, project_id: int, share_id: int) -> bool:
    result = conn.execute(
        delete(shares).where(shares.c.project_id == project_id, shares.c.id == share_id)
    )
    return result.rowcount > 0
