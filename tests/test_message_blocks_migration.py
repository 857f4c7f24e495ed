"""Migration 0011 on a database that already has messages: each becomes a block of one, and
the downgrade unpacks blocks into messages again (ids above every unpacked one after it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from roost.settings import Settings
from roost.storage import dialects
from roost.storage import messages as message_store
from roost.storage.store import Store
from test_stathat_migration import migrate_to

OLD_ROWS = (
    "INSERT INTO messages (project_id, id, agent_id, created_at, payload) VALUES "
    '(1, 5, 7, 1000, \'{"kind": "run_started", "uid": "a"}\'), '
    '(1, 6, 7, 2000, \'{"kind": "run_ended", "uid": "a"}\'), '
    '(2, 9, 8, 3000, \'{"kind": "metrics"}\')'
)


def test_messages_become_blocks_and_come_back(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = Store(Settings(data_dir=tmp_path, database_url=fresh_database_url(tmp_path)))
    try:
        migrate_to(store, "0010")
        with store.write_engine.begin() as conn:
            conn.execute(text(OLD_ROWS))
        migrate_to(store, "0011")
        with store.write_engine.connect() as conn:
            listed = message_store.list_messages(
                conn, project_id=1, agent_id=7, created_after=None, limit=None
            )
            assert [(row.id, row.created_at) for row in listed] == [
                (6 * 1024, 2000),
                (5 * 1024, 1000),
            ]
            found = message_store.get_message(conn, project_ids=[1], message_id=5 * 1024)
            assert found is not None and found.payload == {"kind": "run_started", "uid": "a"}
            assert message_store.get_message(conn, project_ids=[2], message_id=5 * 1024) is None
            assert message_store.count_messages(conn, project_id=2, agent_id=8) == 1
        with store.write_engine.begin() as conn:  # a new block is drawn above the copied ones
            message_store.insert_blocks(
                conn, project_id=2, blocks=[(8, 4000, [[4000, {"kind": "new"}]])]
            )
        with store.write_engine.connect() as conn:
            (newest, _) = message_store.list_messages(
                conn, project_id=2, agent_id=8, created_after=None, limit=None
            )
            assert newest.id == 10 * 1024 and newest.payload == {"kind": "new"}

        migrate_to(store, "0010", down=True)
        with store.write_engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT project_id, id, agent_id, created_at, payload FROM messages ORDER BY id"
                )
            ).all()
        assert [row[:4] for row in rows] == [
            (1, 5 * 1024, 7, 1000),
            (1, 6 * 1024, 7, 2000),
            (2, 9 * 1024, 8, 3000),
            (2, 10 * 1024, 8, 4000),
        ]
        assert '"run_ended"' in rows[1][4]
        # The next message id drawn is above every unpacked one.
        with store.write_engine.begin() as conn:
            assert dialects.next_id(conn, "messages") > 10 * 1024
        store.upgrade()
    finally:
        store.close()
