"""A project's members: list them, add people, change roles, remove people.

Only owners call these (the web app checks the caller's role). A project always keeps at least
one owner, so nobody can lock everyone out of its keys and members by mistake.
"""

from __future__ import annotations

from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.users import Role
from roost.services import users as user_service
from roost.storage import members as member_store
from roost.storage.members import MemberRow
from roost.storage.writer import WriteTx


def _role(role: str) -> str:
    if role not in {choice.value for choice in Role}:
        raise InvalidInput("role", "must be one of " + ", ".join(choice.value for choice in Role))
    return role


def list_members(conn: Connection, *, project_id: int) -> list[MemberRow]:
    return member_store.list_members(conn, project_id=project_id)


def add_member(tx: WriteTx, *, project_id: int, email: str, role: str, now: int) -> None:
    """Give an existing user a role in the project (people are created by an operator)."""
    try:
        user_service.find_user(tx.conn, email)
    except (NotFound, InvalidInput):
        raise InvalidInput(
            "email",
            "no user with this e-mail address; an operator creates one with `roost users create`",
        ) from None
    user_service.grant(tx, email=email, project_id=project_id, role=_role(role), now=now)


def _keep_an_owner(tx: WriteTx, *, project_id: int, user_id: int) -> None:
    current = member_store.get_role(tx.conn, project_id=project_id, user_id=user_id)
    if current is None:
        raise NotFound("member not found")
    if current == Role.OWNER.value and (
        member_store.count_role(tx.conn, project_id=project_id, role=Role.OWNER.value) <= 1
    ):
        raise InvalidInput("role", "a project keeps at least one owner")


def set_role(tx: WriteTx, *, project_id: int, user_id: int, role: str) -> None:
    wanted = _role(role)
    if wanted != Role.OWNER.value:
        _keep_an_owner(tx, project_id=project_id, user_id=user_id)
    if not member_store.set_role(tx.conn, project_id=project_id, user_id=user_id, role=wanted):
        raise NotFound("member not found")


def remove_member(tx: WriteTx, *, project_id: int, user_id: int) -> None:
    _keep_an_owner(tx, project_id=project_id, user_id=user_id)
    member_store.delete_member(tx.conn, project_id=project_id, user_id=user_id)
