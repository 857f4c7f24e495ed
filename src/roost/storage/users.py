"""Users and memberships: the SQL behind sign-in and user tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, select, update

from roost.storage import dialects
from roost.storage.schema import memberships, projects, users


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    email: str
    password_hash: str | None
    token_version: int
    created_at: int


@dataclass(frozen=True, slots=True)
class MembershipRow:
    project_id: int
    project: str
    role: str


def _user(row: RowMapping) -> UserRow:
    return UserRow(
        id=row["id"],
        email=row["email"],
        password_hash=row["password_hash"],
        token_version=row["token_version"],
        created_at=row["created_at"],
    )


def insert_user(conn: Connection, *, email: str, password_hash: str | None, now: int) -> int:
    user_id = dialects.next_id(conn, "users")
    conn.execute(
        users.insert().values(
            id=user_id, email=email, password_hash=password_hash, token_version=1, created_at=now
        )
    )
    return user_id


def find_user_by_email(conn: Connection, email: str) -> UserRow | None:
    found = conn.execute(select(users).where(users.c.email == email)).mappings().first()
    return _user(found) if found else None


def get_user(conn: Connection, user_id: int) -> UserRow | None:
    found = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return _user(found) if found else None


def list_users(conn: Connection) -> list[UserRow]:
    return [_user(row) for row in conn.execute(select(users).order_by(users.c.id)).mappings()]


def set_password_hash(conn: Connection, *, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def bump_token_version(conn: Connection, *, user_id: int) -> None:
    conn.execute(
        update(users).where(users.c.id == user_id).values(token_version=users.c.token_version + 1)
    )


def put_membership(conn: Connection, *, project_id: int, user_id: int, role: str, now: int) -> None:
    """Add the user to the project, or change their role there."""
    changed = conn.execute(
        update(memberships)
        .where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
        .values(role=role)
    )
    if changed.rowcount == 0:
        dialects.insert_ignoring_conflicts(
            conn,
            memberships,
            [{"project_id": project_id, "user_id": user_id, "role": role, "created_at": now}],
        )


def memberships_of(conn: Connection, *, user_id: int) -> list[MembershipRow]:
    rows = conn.execute(
        select(memberships.c.project_id, projects.c.name, memberships.c.role)
        .join(projects, projects.c.id == memberships.c.project_id)
        .where(memberships.c.user_id == user_id)
        .order_by(projects.c.name)
    )
    return [MembershipRow(row[0], row[1], row[2]) for row in rows]
