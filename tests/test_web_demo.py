"""`roost serve --demo` prints a web login that works: the demo user owns the demo project."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from roost.domain.times import now_ms
from roost.services import demo, users
from roost.settings import Settings
from roost.storage.store import Store


def test_the_demo_login_signs_in_as_owner_of_the_demo_project(tmp_path: Path) -> None:
    store = Store(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.db'}"))
    store.upgrade()
    try:
        store.write_now(partial(demo.seed, now=now_ms()))
        assert store.write_now(partial(demo.ensure_demo_user, now=now_ms())) is True
        assert store.write_now(partial(demo.ensure_demo_user, now=now_ms())) is False  # once
        with store.read() as conn:
            user = users.verify_password(conn, email=demo.DEMO_EMAIL, password=demo.DEMO_PASSWORD)
        assert [(m.project, m.role) for m in user.memberships] == [(demo.DEMO_PROJECT, "owner")]
    finally:
        store.read_engine.dispose()
        store.write_engine.dispose()
