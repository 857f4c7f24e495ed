"""Migrations build exactly the schema that ``schema.py`` declares, on both dialects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from roost.settings import Settings
from roost.storage import migrate
from roost.storage.schema import metadata
from roost.storage.store import Store


def fresh_store(fresh_database_url: Callable[[Path], str], tmp_path: Path) -> Store:
    return Store(Settings(data_dir=tmp_path, database_url=fresh_database_url(tmp_path)))


def test_migrated_database_matches_the_declared_schema(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = fresh_store(fresh_database_url, tmp_path)
    try:
        store.upgrade()
        with store.write_engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            diff = compare_metadata(context, metadata)
    finally:
        store.close()
    assert diff == []


def test_upgrade_reaches_head_and_a_second_upgrade_changes_nothing(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = fresh_store(fresh_database_url, tmp_path)
    try:
        assert migrate.current_revision(store.write_engine) is None
        store.upgrade()
        assert migrate.current_revision(store.write_engine) == migrate.head_revision()
        store.upgrade()
        assert migrate.current_revision(store.write_engine) == migrate.head_revision()
    finally:
        store.close()
