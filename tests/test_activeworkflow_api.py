"""ActiveWorkflow's read API (API.md §4): tokens, keys, entities, ``after``/``limit`` and the
exact error bodies, on both databases."""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.domain.agents import process_seed
from roost.domain.times import now_ms
from roost.services import users
from roost.services.messages import add_message
from roost.storage.store import Store
from roost.storage.writer import WriteTx

UNAUTHORIZED = {"error": "401 Unauthorized"}
NOT_FOUND = {"error": "404 Record not found"}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def new_user(store: Store, tenant: Tenant | None = None, role: str = "member") -> str:
    """A user (a member of ``tenant``'s project, if given) and their token."""
    email = f"aw-{uuid.uuid4().hex[:8]}@example.com"
    now = now_ms()
    store.write_now(partial(users.create_user, email=email, password=None, now=now))
    if tenant is not None:
        store.write_now(
            partial(users.grant, email=email, project_id=tenant.project_id, role=role, now=now)
        )
    with store.read() as conn:
        return users.issue_token(conn, email=email, secret=store.settings.resolved_secret_key())


def messages_at(project_id: int, name: str, times: list[int]) -> Callable[[WriteTx], None]:
    """Messages of the process agent ``name`` created at ``times``, in that order."""

    def job(tx: WriteTx) -> None:
        for index, created_at in enumerate(times):
            add_message(
                tx,
                project_id=project_id,
                agent=process_seed(10**12 + zlib.crc32(name.encode()), name, ""),
                created_at=created_at,
                payload={"n": index},
            )

    return job


def get(client: TestClient, path: str, auth: str, **params: Any) -> Any:
    return client.get(f"/api/v1{path}", params=params, headers={"Authorization": auth})


def only_agent(client: TestClient, auth: str) -> dict[str, Any]:
    (agent,) = get(client, "/agents", auth).json()
    assert isinstance(agent, dict)
    return agent


def test_a_user_token_works_with_and_without_bearer(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    token = new_user(store, tenant)
    store.write_now(messages_at(tenant.project_id, "job", [now_ms()]))
    bare = get(client, "/agents", token)
    bearer = get(client, "/agents", f"Bearer {token}")
    assert bare.status_code == bearer.status_code == 200
    assert bare.json() == bearer.json()
    (agent,) = bare.json()
    assert agent == {
        "id": agent["id"],
        "name": "job",
        "type": "Agents::Process",
        "disabled": False,
        "messages_count": 1,
        "sources": [],
        "project_id": tenant.project_id,
    }


def test_a_project_key_with_the_read_scope_sees_its_project(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    store.write_now(messages_at(tenant.project_id, "job", [now_ms()]))
    reader = add_key(store, tenant, "read")
    assert only_agent(client, f"Bearer {reader}")["name"] == "job"
    writer_only = add_key(store, tenant, "write")
    refused = get(client, "/agents", writer_only)  # a valid key without the read scope
    assert (refused.status_code, refused.json()) == (403, {"error": "403 Forbidden"})


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer nonsense", "Bearer a.b.c", "Bearer rk_unknownkey"]
)
def test_a_missing_or_bad_token_is_401_in_activeworkflows_words(
    client: TestClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    for path in ("/agents", "/agents/1", "/agents/1/messages", "/messages/1", "/workflows"):
        response = client.get(f"/api/v1{path}", headers=headers)
        assert response.status_code == 401, path
        assert response.json() == UNAUTHORIZED


def test_a_token_signed_with_another_secret_or_revoked_is_401(
    client: TestClient, store: Store
) -> None:
    import jwt

    forged = jwt.encode({"user_id": 1, "ver": 1}, b"not-the-secret-" * 3, algorithm="HS256")
    assert get(client, "/agents", forged).json() == UNAUTHORIZED
    tenant = make_tenant(store)
    email_token = new_user(store, tenant)
    with store.read() as conn:
        user_id = users.authenticate_token(
            conn, token=email_token, secret=store.settings.resolved_secret_key()
        ).email
    store.write_now(partial(users.revoke_tokens, email=user_id))
    assert get(client, "/agents", email_token).status_code == 401


def test_one_user_never_sees_another_users_records(client: TestClient, store: Store) -> None:
    mine, theirs = make_tenant(store), make_tenant(store)
    store.write_now(messages_at(mine.project_id, "mine", [now_ms()]))
    store.write_now(messages_at(theirs.project_id, "theirs", [now_ms()]))
    alice, bob = new_user(store, mine), new_user(store, theirs)
    their_agent = only_agent(client, bob)
    assert only_agent(client, alice)["name"] == "mine"
    their_message = get(client, f"/agents/{their_agent['id']}/messages", bob).json()[0]
    for path in (
        f"/agents/{their_agent['id']}",
        f"/agents/{their_agent['id']}/messages",
        f"/messages/{their_message['id']}",
    ):
        response = get(client, path, alice)
        assert response.status_code == 404, path
        assert response.json() == NOT_FOUND
    nobody = new_user(store)  # a user of no project sees nothing at all
    assert get(client, "/agents", nobody).json() == []
    assert get(client, "/workflows", nobody).json() == []


def test_a_user_of_two_projects_sees_both(client: TestClient, store: Store) -> None:
    first, second = make_tenant(store), make_tenant(store)
    store.write_now(messages_at(first.project_id, "a", [now_ms()]))
    store.write_now(messages_at(second.project_id, "b", [now_ms()]))
    email = f"aw-{uuid.uuid4().hex[:8]}@example.com"
    now = now_ms()
    store.write_now(partial(users.create_user, email=email, password=None, now=now))
    for tenant in (first, second):
        store.write_now(
            partial(users.grant, email=email, project_id=tenant.project_id, role="viewer", now=now)
        )
    with store.read() as conn:
        token = users.issue_token(conn, email=email, secret=store.settings.resolved_secret_key())
    names = [agent["name"] for agent in get(client, "/agents", token).json()]
    assert names == ["b", "a"]  # newest created first


def test_messages_are_newest_first_and_after_and_limit_filter_them(
    client: TestClient, store: Store
) -> None:
    tenant = make_tenant(store)
    base = now_ms() - 10_000
    store.write_now(messages_at(tenant.project_id, "job", [base, base + 1000, base + 2000]))
    agent = only_agent(client, tenant.headers["Authorization"])
    path = f"/agents/{agent['id']}/messages"
    auth = tenant.headers["Authorization"]
    every = get(client, path, auth).json()
    assert [item["id"] for item in every] == sorted((item["id"] for item in every), reverse=True)
    assert all(ISO_MS.match(item["created_at"]) for item in every)
    assert set(every[0]) == {"id", "agent_id", "created_at", "expires_at"}
    assert every[0]["agent_id"] == agent["id"]
    assert get(client, path, auth, limit=2).json() == every[:2]
    assert get(client, path, auth, limit=0).json() == []
    # after keeps created_at strictly later than the given time.
    assert get(client, path, auth, after=every[1]["created_at"]).json() == every[:1]
    assert get(client, path, auth, after=every[2]["created_at"], limit=1).json() == every[:1]
    message = get(client, f"/messages/{every[2]['id']}", auth).json()
    assert message == {**every[2], "payload": {"n": 0}}


@pytest.mark.parametrize(
    ("params", "text"),
    [({"after": "yesterday"}, "after is invalid"), ({"limit": "ten"}, "limit is invalid")],
)
def test_bad_parameters_answer_500_as_the_original_does(
    client: TestClient, store: Store, params: dict[str, str], text: str
) -> None:
    tenant = make_tenant(store)
    store.write_now(messages_at(tenant.project_id, "job", [now_ms()]))
    agent = only_agent(client, tenant.headers["Authorization"])
    response = client.get(
        f"/api/v1/agents/{agent['id']}/messages", params=params, headers=tenant.headers
    )
    assert response.status_code == 500
    assert response.json() == {"error": text}


@pytest.mark.parametrize(
    "path", ["/agents/0", "/agents/abc", "/messages/999999999", "/workflows/x"]
)
def test_unknown_or_malformed_ids_are_record_not_found(
    client: TestClient, store: Store, path: str
) -> None:
    tenant = make_tenant(store)
    response = client.get(f"/api/v1{path}", headers=tenant.headers)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_a_viewer_or_read_key_may_not_disable_an_agent(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    store.write_now(messages_at(tenant.project_id, "job", [now_ms()]))
    viewer = new_user(store, tenant, role="viewer")
    agent = only_agent(client, viewer)
    for auth in (viewer, f"Bearer {add_key(store, tenant, 'read')}"):
        response = client.patch(
            f"/api/v1/agents/{agent['id']}",
            json={"disabled": True},
            headers={"Authorization": auth},
        )
        assert response.status_code == 403
        assert response.json() == {"error": "403 Forbidden"}
    member = new_user(store, tenant, role="member")
    bad = client.patch(
        f"/api/v1/agents/{agent['id']}", json={"disabled": "yes"}, headers={"Authorization": member}
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "disabled"
    ok = client.patch(
        f"/api/v1/agents/{agent['id']}", json={"disabled": True}, headers={"Authorization": member}
    )
    assert ok.status_code == 200 and ok.json()["disabled"] is True
