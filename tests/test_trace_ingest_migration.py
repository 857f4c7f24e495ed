"""Migration 0010 drops the trace_events indexes no query needs and indexes failed events
alone; its downgrade puts the old indexes back, on both dialects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import inspect, text

from roost.settings import Settings
from roost.storage.store import Store
from test_stathat_migration import migrate_to

OLD_ONLY = {
    "ix_trace_events_project_id_end_time",
    "ix_trace_events_project_id_event_type_start_time",
    "ix_trace_events_project_id_duration",
    "ix_trace_events_project_id_has_error_start_time",
}
KEPT = {
    "ix_trace_events_project_id_session_id_start_time",
    "ix_trace_events_project_id_parent_id",
    "ix_trace_events_project_id_start_time",
    "ix_trace_events_project_id_event_name_start_time",
}
ERRORS = "ix_trace_events_errors"
EVENT = (
    "INSERT INTO trace_events (project_id, event_id, session_id, parent_id, event_type, "
    "event_name, source, start_time, end_time, duration, has_error, error, inputs, outputs, "
    "config, metadata, metrics, feedback, user_properties, children_ids, received_at) VALUES "
    "(1, 'e1', 's1', NULL, 'tool', 'step', 'test', 1000, 1005, 5, 1, 'boom', "
    "'{}', '{}', '{}', '{}', '{}', '{}', '{}', '[]', 1000)"
)


def _indexes(store: Store) -> set[str]:
    return {
        index["name"] or "" for index in inspect(store.write_engine).get_indexes("trace_events")
    }


def test_trace_ingest_migration_keeps_events_and_goes_back(
    fresh_database_url: Callable[[Path], str], tmp_path: Path
) -> None:
    store = Store(Settings(data_dir=tmp_path, database_url=fresh_database_url(tmp_path)))
    try:
        migrate_to(store, "0009")
        assert _indexes(store) == OLD_ONLY | KEPT
        with store.write_engine.begin() as conn:
            conn.execute(text(EVENT))

        migrate_to(store, "0010")
        assert _indexes(store) == KEPT | {ERRORS}
        with store.write_engine.connect() as conn:
            failed = conn.execute(
                text("SELECT event_id FROM trace_events WHERE project_id = 1 AND has_error = 1")
            ).all()
        assert failed == [("e1",)]

        migrate_to(store, "0009", down=True)
        assert _indexes(store) == OLD_ONLY | KEPT
    finally:
        store.close()
