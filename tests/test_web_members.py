"""The members service behind the settings page, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from functools import partial

import pytest

from conftest import make_tenant
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.services import members, users
from roost.storage.store import Store


def _person(store: Store) -> str:
    email = f"m-{uuid.uuid4().hex[:10]}@example.com"
    store.write_now(
        partial(users.create_user, email=email, password="a long password", now=now_ms())
    )
    return email


def test_members_are_listed_re_roled_and_removed_within_their_project(store: Store) -> None:
    tenant, other = make_tenant(store), make_tenant(store)
    owner, helper = _person(store), _person(store)
    for email, role in ((owner, "owner"), (helper, "viewer")):
        store.write_now(
            partial(
                members.add_member,
                project_id=tenant.project_id,
                email=email,
                role=role,
                now=now_ms(),
            )
        )
    with store.read() as conn:
        listed = members.list_members(conn, project_id=tenant.project_id)
        assert members.list_members(conn, project_id=other.project_id) == []
    assert [(m.email, m.role) for m in listed] == sorted([(owner, "owner"), (helper, "viewer")])
    helper_id = next(m.user_id for m in listed if m.email == helper)
    store.write_now(
        partial(members.set_role, project_id=tenant.project_id, user_id=helper_id, role="member")
    )
    # Another project's id for the same person is simply not found.
    with pytest.raises(NotFound):
        store.write_now(
            partial(members.remove_member, project_id=other.project_id, user_id=helper_id)
        )
    store.write_now(partial(members.remove_member, project_id=tenant.project_id, user_id=helper_id))
    with store.read() as conn:
        assert [m.email for m in members.list_members(conn, project_id=tenant.project_id)] == [
            owner
        ]


def test_a_project_keeps_its_last_owner(store: Store) -> None:
    tenant = make_tenant(store)
    owner = _person(store)
    store.write_now(
        partial(
            members.add_member,
            project_id=tenant.project_id,
            email=owner,
            role="owner",
            now=now_ms(),
        )
    )
    with store.read() as conn:
        owner_id = members.list_members(conn, project_id=tenant.project_id)[0].user_id
    for job in (
        partial(members.remove_member, project_id=tenant.project_id, user_id=owner_id),
        partial(members.set_role, project_id=tenant.project_id, user_id=owner_id, role="viewer"),
    ):
        with pytest.raises(InvalidInput, match="at least one owner"):
            store.write_now(job)


def test_only_existing_users_are_added_with_a_known_role(store: Store) -> None:
    tenant = make_tenant(store)
    with pytest.raises(InvalidInput, match="roost users create"):
        store.write_now(
            partial(
                members.add_member,
                project_id=tenant.project_id,
                email="ghost@example.com",
                role="member",
                now=now_ms(),
            )
        )
    with pytest.raises(InvalidInput, match="role"):
        store.write_now(
            partial(
                members.add_member,
                project_id=tenant.project_id,
                email=_person(store),
                role="king",
                now=now_ms(),
            )
        )
