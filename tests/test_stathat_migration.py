"""Migration 0004 on a database that already has stats: every stat gets a classic key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from roost.settings import Settings
from roost.storage import migrate
from roost.storage.store import Store


def migrate_to(store: Store, revision: str, *, down: bool = False) -> None:
    config = migrate._config()
    with store.write_engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def test_existing_stats_get_distinct_classic_keys_and_the_migration_goes_back(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = Store(Settings(data_dir=tmp_path, database_url=fresh_database_url(tmp_path)))
    try:
        migrate_to(store, "0003")
        with store.write_engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO series (project_id, id, name, kind, labels_key, created_at) "
                    "VALUES (1, 1, 'a', 'counter', '', 0), (1, 2, 'b', 'value', '', 0)"
                )
            )
        store.upgrade()
        with store.write_engine.connect() as conn:
            keys = conn.execute(text("SELECT classic_key FROM series ORDER BY id")).scalars().all()
        assert len(set(keys)) == 2 and all(key and len(key) >= 16 for key in keys)

        migrate_to(store, "0003", down=True)
        columns = {column["name"] for column in inspect(store.write_engine).get_columns("series")}
        assert "classic_key" not in columns
        assert "stathat_imports" not in inspect(store.write_engine).get_table_names()
        store.upgrade()
        assert migrate.current_revision(store.write_engine) == migrate.head_revision()
    finally:
        store.close()
