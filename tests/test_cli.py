"""The ``roost`` command, run as a real subprocess against the test database.

Keys made by the CLI are tried against the running app on the same database, so "prints a
key that works" and "revoked at once" are checked end to end.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import add_key, make_tenant
from roost.settings import Settings
from roost.storage import migrate, tenancy
from roost.storage.engine import create_store_engine
from roost.storage.store import Store
from roostserver import roost_env, run_roost

KEY_LINE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def roost(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``roost ARGS…`` on the given settings' data directory and database."""
    return run_roost(roost_env(settings.data_dir, settings.database_url), *args)


def new_project() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def works(client: TestClient, key: str) -> bool:
    response = client.get("/v1/stats", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def project_exists(store: Store, name: str) -> bool:
    with store.read() as conn:
        return tenancy.find_project(conn, name) is not None


def test_keys_create_prints_only_a_key_that_authenticates(
    client: TestClient, settings: Settings
) -> None:
    project = new_project()
    done = roost(
        settings, "keys", "create", "--project", project, "--name", "ci", "--scopes", "read,write"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and KEY_LINE.match(lines[0]), done.stdout
    headers = {"Authorization": f"Bearer {lines[0]}"}
    # read,write: ingest and reads are allowed, key management is not.
    ingest = client.post("/v1/ingest", json={"stat": "cli", "value": 1}, headers=headers)
    assert ingest.status_code == 202
    assert works(client, lines[0])
    assert client.get("/v1/auth/api-keys", headers=headers).status_code == 403


def test_keys_list_shows_each_key_by_id_and_prefix_but_never_the_key(
    settings: Settings, store: Store
) -> None:
    tenant = make_tenant(store)
    done = roost(settings, "keys", "list", "--project", tenant.project)
    assert done.returncode == 0, done.stderr
    # The row of make_tenant's key, labelled "test": its id, then its name.
    assert re.search(rf"^\W*{tenant.key_id}\W+test\W", done.stdout, re.MULTILINE), done.stdout
    assert tenant.key[:8] in done.stdout  # the shown prefix, so people can tell keys apart
    assert tenant.key not in done.stdout + done.stderr


def test_keys_revoke_stops_the_key_at_once_and_only_that_key(
    client: TestClient, settings: Settings, store: Store
) -> None:
    tenant = make_tenant(store)
    other = add_key(store, tenant, "read")
    assert works(client, tenant.key)

    done = roost(settings, "keys", "revoke", str(tenant.key_id))
    assert done.returncode == 0, done.stderr
    assert not works(client, tenant.key)
    assert works(client, other)

    again = roost(settings, "keys", "revoke", str(tenant.key_id))
    assert again.returncode != 0
    assert "no active key" in again.stderr


def test_keys_create_with_a_bad_scope_fails_with_a_message_and_creates_nothing(
    settings: Settings, store: Store
) -> None:
    project = new_project()
    done = roost(settings, "keys", "create", "--project", project, "--scopes", "read,fly")
    assert done.returncode != 0
    assert "scope" in done.stderr
    assert done.stdout == ""
    assert not project_exists(store, project)


def test_keys_list_of_an_unknown_project_fails_with_a_message(settings: Settings) -> None:
    done = roost(settings, "keys", "list", "--project", new_project())
    assert done.returncode != 0
    assert "no project" in done.stderr
    assert done.stdout == ""


def test_db_upgrade_creates_the_schema_and_can_run_again(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    fresh = Settings(data_dir=tmp_path, database_url=fresh_database_url(tmp_path))
    for _ in range(2):
        done = roost(fresh, "db", "upgrade")
        assert done.returncode == 0, done.stderr
        assert "up to date" in done.stderr
    engine = create_store_engine(fresh, writer=False)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
