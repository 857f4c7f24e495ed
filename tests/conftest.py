"""Shared test set-up: every storage and API test runs on SQLite and on a real PostgreSQL.

PostgreSQL is Debian's server, started once per session on 127.0.0.1 by ``pgserver.py``.
Tests stay independent without resetting the database: each one makes its own project
(``make_tenant``), and projects never see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from pgserver import PostgresServer
from roost.app import create_app
from roost.domain import keys as key_rules
from roost.domain.times import now_ms
from roost.services import access
from roost.settings import Settings
from roost.storage.store import Store

DIALECTS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def new_database_url(dialect: str, tmp: Path, postgres: PostgresServer | None) -> str:
    """An empty database of the given dialect (a new SQLite file, or a new PG database)."""
    if dialect == "sqlite":
        return f"sqlite:///{tmp / f'roost-{uuid.uuid4().hex[:8]}.db'}"
    assert postgres is not None
    name = f"roost_{uuid.uuid4().hex[:12]}"
    url = make_url(postgres.url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def fresh_database_url(dialect: str, request: pytest.FixtureRequest) -> Callable[[Path], str]:
    """A factory: ``fresh_database_url(folder)`` makes an empty database and returns its URL.

    The database is of the test's dialect: a new SQLite file in ``folder``, or a new database
    on the session's PostgreSQL server (only started when the dialect needs it).
    """
    postgres = request.getfixturevalue("postgres") if dialect == "postgresql" else None

    def make(tmp: Path) -> str:
        return new_database_url(dialect, tmp, postgres)

    return make


@pytest.fixture(scope="session")
def settings(
    dialect: str,
    tmp_path_factory: pytest.TempPathFactory,
    fresh_database_url: Callable[[Path], str],
) -> Settings:
    tmp = tmp_path_factory.mktemp(f"data-{dialect}")
    return Settings(
        data_dir=tmp,
        database_url=fresh_database_url(tmp),
        # Short enough for tests to see; real deployments keep the default.
        retention_interval_seconds=3600,
        # Tests run alert passes themselves, with the time they choose.
        alert_interval=3600,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def store(app: FastAPI, client: TestClient) -> Store:
    # Depends on client so the app's lifespan (migrations, writer) is running.
    started: Store = app.state.store
    return started


@dataclass(frozen=True)
class Tenant:
    """A fresh project and one of its keys."""

    project_id: int
    project: str
    key: str
    key_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_tenant(store: Store, scopes: str = "read,write,admin") -> Tenant:
    name = f"test-{uuid.uuid4().hex[:10]}"
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        project = access.ensure_project(tx, name=name, now=now)
        new = access.create_key(
            tx, project_id=project.id, name="test", scopes=key_rules.parse_scopes(scopes), now=now
        )
        return project, new

    project, new = store.write_now(job)
    return Tenant(project.id, name, new.secret, new.row.id)


def add_key(store: Store, tenant: Tenant, scopes: str) -> str:
    new = store.write_now(
        partial(
            access.create_key,
            project_id=tenant.project_id,
            name="extra",
            scopes=key_rules.parse_scopes(scopes),
            now=now_ms(),
        )
    )
    return new.secret
