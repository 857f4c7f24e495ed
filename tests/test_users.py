"""Users, memberships and signed tokens, on both databases; the CLI through subprocesses."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, add_key, make_tenant
from roost.app import create_app
from roost.domain.errors import InvalidInput, NotFound, Unauthorized
from roost.domain.times import now_ms
from roost.services import users
from roost.settings import Settings
from roost.storage.store import Store
from roostserver import roost_env, run_roost


def new_user(store: Store, *, password: str | None = "correct horse") -> str:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    store.write_now(partial(users.create_user, email=email, password=password, now=now_ms()))
    return email


def grant(store: Store, email: str, tenant: Tenant, role: str = "member") -> None:
    store.write_now(
        partial(users.grant, email=email, project_id=tenant.project_id, role=role, now=now_ms())
    )


def token_for(store: Store, email: str) -> str:
    with store.read() as conn:
        return users.issue_token(conn, email=email, secret=store.settings.resolved_secret_key())


def projects(client: TestClient, authorization: str) -> list[dict[str, object]]:
    response = client.get("/api/v1/projects", headers={"Authorization": authorization})
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_a_user_sees_only_the_projects_they_belong_to(client: TestClient, store: Store) -> None:
    mine, theirs = make_tenant(store), make_tenant(store)
    alice, bob = new_user(store), new_user(store)
    grant(store, alice, mine, "owner")
    grant(store, bob, theirs, "viewer")
    token = token_for(store, alice)
    assert projects(client, f"Bearer {token}") == [
        {"id": mine.project_id, "name": mine.project, "role": "owner"}
    ]
    assert [item["role"] for item in projects(client, f"Bearer {token_for(store, bob)}")] == [
        "viewer"
    ]


def test_the_token_works_with_or_without_bearer(client: TestClient, store: Store) -> None:
    tenant, email = make_tenant(store), new_user(store)
    grant(store, email, tenant)
    token = token_for(store, email)
    assert projects(client, token) == projects(client, f"Bearer {token}")
    assert len(projects(client, f"Token   {token}")) == 1  # the last word is the token


def test_a_tokens_claims_are_the_user_id_and_its_version(store: Store) -> None:
    email = new_user(store)
    claims = jwt.decode(
        token_for(store, email), store.settings.resolved_secret_key(), algorithms=["HS256"]
    )
    assert set(claims) == {"user_id", "ver"}
    assert claims["ver"] == 1


def test_revoking_a_users_tokens_stops_every_one_issued(client: TestClient, store: Store) -> None:
    tenant, email = make_tenant(store), new_user(store)
    grant(store, email, tenant)
    old = token_for(store, email)
    store.write_now(partial(users.revoke_tokens, email=email))
    assert client.get("/api/v1/projects", headers={"Authorization": old}).status_code == 401
    assert len(projects(client, token_for(store, email))) == 1


@pytest.mark.parametrize(
    "make_token",
    [
        lambda secret: "",
        lambda secret: "not-a-jwt",
        lambda secret: jwt.encode(
            {"user_id": 1, "ver": 1}, b"another secret, just as long as ours", algorithm="HS256"
        ),
        lambda secret: jwt.encode({"user_id": 10**12, "ver": 1}, secret, algorithm="HS256"),
        lambda secret: jwt.encode({"user_id": "1", "ver": 1}, secret, algorithm="HS256"),
        lambda secret: jwt.encode({"user_id": 1}, secret, algorithm="HS256"),
        lambda secret: jwt.encode({"user_id": 1, "ver": 1}, secret, algorithm="HS512"),
    ],
    ids=["empty", "garbage", "other-secret", "unknown-user", "string-id", "no-version", "hs512"],
)
def test_a_bad_token_is_401(
    client: TestClient, store: Store, make_token: Callable[[bytes], str]
) -> None:
    token = make_token(store.settings.resolved_secret_key())
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "error" in response.json()


def test_an_api_key_with_read_scope_sees_its_project(client: TestClient, store: Store) -> None:
    tenant = make_tenant(store)
    assert projects(client, f"Bearer {tenant.key}") == [
        {"id": tenant.project_id, "name": tenant.project, "role": "key"}
    ]
    writer = add_key(store, tenant, "write")
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {writer}"})
    assert response.status_code == 403


def test_passwords_are_hashed_and_checked(store: Store) -> None:
    email = new_user(store, password="correct horse")
    with store.read() as conn:
        row = users.find_user(conn, email)
        assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
        assert users.verify_password(conn, email=email, password="correct horse").email == email
        for wrong in ("wrong horse", ""):
            with pytest.raises(Unauthorized):
                users.verify_password(conn, email=email, password=wrong)
        with pytest.raises(Unauthorized):
            users.verify_password(conn, email="nobody@example.com", password="correct horse")
    token_only = new_user(store, password=None)
    with store.read() as conn, pytest.raises(Unauthorized):
        users.verify_password(conn, email=token_only, password="anything at all")


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not an address", "long enough", "email"),
        ("a@b", "long enough", "email"),
        ("x" * 250 + "@example.com", "long enough", "email"),
        ("ok@example.com", "short", "password"),
    ],
)
def test_bad_user_fields_are_refused_naming_the_field(
    store: Store, email: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.write_now(partial(users.create_user, email=email, password=password, now=now_ms()))
    assert refused.value.field == field


def test_an_address_is_one_user_whatever_its_case(store: Store) -> None:
    email = new_user(store)
    with pytest.raises(InvalidInput):
        store.write_now(
            partial(users.create_user, email=email.upper(), password=None, now=now_ms())
        )


def test_roles_are_checked_and_can_change(client: TestClient, store: Store) -> None:
    tenant, email = make_tenant(store), new_user(store)
    with pytest.raises(InvalidInput):
        grant(store, email, tenant, "admin")
    grant(store, email, tenant, "viewer")
    grant(store, email, tenant, "owner")
    assert [item["role"] for item in projects(client, token_for(store, email))] == ["owner"]
    with pytest.raises(NotFound):
        grant(store, "nobody@example.com", tenant)


def test_the_secret_may_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("a secret from a file, 32 characters or more\n")
    settings = Settings(data_dir=tmp_path, secret_key_file=secret_file)
    assert settings.resolved_secret_key() == b"a secret from a file, 32 characters or more"
    assert not (tmp_path / "secret-key").exists()
    generated = Settings(data_dir=tmp_path / "other").resolved_secret_key()
    assert generated == Settings(data_dir=tmp_path / "other").resolved_secret_key()
    with pytest.raises(ValueError, match="ROOST_SECRET_KEY_FILE"):
        Settings(data_dir=tmp_path, secret_key_file=tmp_path / "missing")
    with pytest.raises(ValueError, match="at least 32"):
        Settings(data_dir=tmp_path, secret_key="too short")


def test_the_cli_creates_users_and_prints_tokens_the_api_accepts(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    env = roost_env(tmp_path, fresh_database_url(tmp_path))
    created = run_roost(
        env, "users", "create", "--email", "Ops@Example.com", "--password", "a long password",
        "--project", "shop", "--role", "owner",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    again = run_roost(env, "users", "create", "--email", "ops@example.com")
    assert again.returncode == 1
    assert "email" in again.stderr
    printed = run_roost(env, "users", "token", "--email", "ops@example.com")
    assert printed.returncode == 0, printed.stderr
    token = printed.stdout.strip()
    assert token.count(".") == 2
    listed = run_roost(env, "users", "list")
    assert "ops@example.com" in listed.stdout and "shop (owner)" in listed.stdout
    settings = Settings(data_dir=tmp_path, database_url=env["ROOST_DATABASE_URL"])
    with TestClient(create_app(settings)) as client:
        assert projects(client, token)[0]["name"] == "shop"
        assert (
            run_roost(env, "users", "revoke-tokens", "--email", "ops@example.com").returncode == 0
        )
        assert client.get("/api/v1/projects", headers={"Authorization": token}).status_code == 401
    unknown = run_roost(env, "users", "token", "--email", "nobody@example.com")
    assert unknown.returncode == 1
