"""Fewer indexes on trace_events: every span insert touches each of them.

Dropped, because no query needs them: ``end_time`` and ``duration`` (searches on them read
along ``start_time``, newest first, as every search does), and ``event_type, start_time``
(four types: reading along ``start_time`` finds a page of them at once). The index on
``duration`` was the costliest: its entries land at random places, one page per span.
``has_error, start_time`` becomes an index of the failed events only, so a span without an
error touches it no more.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DROPPED = (("end_time",), ("event_type", "start_time"), ("duration",), ("has_error", "start_time"))
ERRORS_INDEX = "ix_trace_events_errors"
ONLY_ERRORS = sa.text("has_error = 1")


def _name(columns: tuple[str, ...]) -> str:
    return "ix_trace_events_project_id_" + "_".join(columns)


def upgrade() -> None:
    for columns in DROPPED:
        op.drop_index(_name(columns), table_name="trace_events")
    op.create_index(
        ERRORS_INDEX,
        "trace_events",
        ["project_id", "start_time"],
        sqlite_where=ONLY_ERRORS,
        postgresql_where=ONLY_ERRORS,
    )


def downgrade() -> None:
    op.drop_index(ERRORS_INDEX, table_name="trace_events")
    for columns in DROPPED:
        op.create_index(_name(columns), "trace_events", ["project_id", *columns])
