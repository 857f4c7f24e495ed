"""A Roost for the web tests: one app on SQLite behind a real uvicorn, with people and data.

``web_world`` (module scope) starts the app, makes three projects (Acme with stats, Beta with
one stat of its own, and an empty one) and their people, and sends points through the real
StatFlow ingest API. ``browser`` is the module's Chromium; ``signed_in`` a fresh context of
Acme's owner. The browser tests run on SQLite only: the pages call the same services as the
API, whose tests cover PostgreSQL, and a second run would double the slowest tests.

Usage (in a test module)::

    from webapp import browser, signed_in, web_world  # noqa: F401 (fixtures)
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext

from browser import chromium, sign_in
from liveserver import live_server
from roost.app import create_app
from roost.domain import keys as key_rules
from roost.domain.times import DAY, HOUR, MINUTE, now_ms
from roost.services import access, users
from roost.settings import Settings
from roost.storage.store import Store

PASSWORD = "correct horse battery"
POINTS_SPAN_MS = 48 * HOUR
POINTS_STEP_MS = 5 * MINUTE


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    key: str
    stats: dict[str, int]  # name → id


@dataclass(frozen=True)
class WebWorld:
    base_url: str
    store: Store
    acme: Project
    beta: Project
    empty: Project
    owner: str  # e-mail of Acme's owner (also a viewer of Beta? no: Beta is another tenant)
    member: str
    viewer: str
    beta_owner: str
    loner: str  # owner of the empty project only


def _project_with_people(store: Store, name: str, people: dict[str, str]) -> Project:
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        project = access.ensure_project(tx, name=name, now=now)
        key = access.create_key(
            tx,
            project_id=project.id,
            name="tests",
            scopes=key_rules.parse_scopes("read,write,admin"),
            now=now,
        )
        for email, role in people.items():
            try:
                users.find_user(tx.conn, email)
            except Exception:
                users.create_user(tx, email=email, password=PASSWORD, now=now)
            users.grant(tx, email=email, project_id=project.id, role=role, now=now)
        return project.id, key.secret

    project_id, key = store.write_now(job)
    return Project(project_id, name, key, {})


def _shape(index: int, kind: str) -> float:
    """A daily wave with a little deterministic jitter: charts that look like real traffic."""
    wave = math.sin(2 * math.pi * index / (DAY // POINTS_STEP_MS))
    if kind == "counter":
        return float(int(20 + 14 * wave + (index * 7) % 5))
    return round(80 + 25 * wave + (index * 13) % 11, 1)


def _send_points(base_url: str, project: Project, series: dict[str, str]) -> Project:
    """Two days of points every five minutes per stat, through POST /v1/ingest/batch."""
    end = now_ms() - now_ms() % POINTS_STEP_MS
    times = list(range(end - POINTS_SPAN_MS, end, POINTS_STEP_MS))
    headers = {"Authorization": f"Bearer {project.key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
        for name, kind in series.items():
            items: list[dict[str, Any]] = [
                {
                    "stat": name,
                    "type": kind,
                    "t": ts / 1000,
                    "value": _shape(index, kind),
                }
                for index, ts in enumerate(times)
            ]
            for start in range(0, len(items), 1000):
                done = http.post("/v1/ingest/batch", json={"items": items[start : start + 1000]})
                assert done.status_code == 202, done.text
        listed = http.get("/v1/stats").json()
    stats = {item["name"]: int(item["id"]) for item in listed["stats"]}
    return Project(project.id, project.name, project.key, stats)


@pytest.fixture(scope="module")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    tmp = tmp_path_factory.mktemp("web")
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'roost.db'}")
    app = create_app(settings)
    tag = uuid.uuid4().hex[:6]
    owner, member, viewer = (
        f"owner-{tag}@example.com",
        f"member-{tag}@example.com",
        f"viewer-{tag}@example.com",
    )
    beta_owner, loner = f"beta-{tag}@example.com", f"loner-{tag}@example.com"
    with TestClient(app), live_server(app) as base_url:
        store: Store = app.state.store
        make = partial(_project_with_people, store)
        acme = make("Acme", {owner: "owner", member: "member", viewer: "viewer"})
        beta = make("Beta", {beta_owner: "owner"})
        empty = make("Empty", {loner: "owner"})
        acme = _send_points(
            base_url, acme, {"jobs.processed": "counter", "api.latency_ms": "value"}
        )
        beta = _send_points(base_url, beta, {"beta.secret": "counter"})
        yield WebWorld(base_url, store, acme, beta, empty, owner, member, viewer, beta_owner, loner)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as found:
        yield found


@pytest.fixture(scope="module")
def owner_state(browser: Browser, web_world: WebWorld) -> dict[str, Any]:
    """Acme's owner signed in once; each test opens its own context from this state."""
    context = browser.new_context()
    sign_in(context.new_page(), web_world.base_url, web_world.owner, PASSWORD)
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


@pytest.fixture
def signed_in(browser: Browser, owner_state: dict[str, Any]) -> Iterator[BrowserContext]:
    context = browser.new_context(
        storage_state=owner_state, viewport={"width": 1280, "height": 900}
    )
    try:
        yield context
    finally:
        context.close()
