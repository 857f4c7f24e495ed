"""A project's members: the SQL behind the web app's members settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select, update

from roost.storage.schema import memberships, users


@dataclass(frozen=True, slots=True)
class MemberRow:
    user_id: int
    email: str
    role: str
    created_at: int  # when they joined the project


def list_members(conn: Connection, *, project_id: int) -> list[MemberRow]:
    rows = conn.execute(
        select(users.c.id, users.c.email, memberships.c.role, memberships.c.created_at)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.email)
    )
    return [MemberRow(row[0], row[1], row[2], row[3]) for row in rows]


def get_role(conn: Connection, *, project_id: int, user_id: int) -> str | None:
    found = conn.execute(
        select(memberships.c.role).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    ).scalar()
    return str(found) if found is not None else None


def count_role(conn: Connection, *, project_id: int, role: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(memberships)
            .where(memberships.c.project_id == project_id, memberships.c.role == role)
        ).scalar_one()
    )


def set_role(conn: Connection, *, project_id: int, user_id: int, role: str) -> bool:
    changed = conn.execute(
        update(memberships)
        .where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
        .values(role=role)
    )
    return bool(changed.rowcount)


def delete_member(conn: Connection, *, project_id: int, user_id: int) -> bool:
    removed = conn.execute(
        delete(memberships).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    )
    return bool(removed.rowcount)
