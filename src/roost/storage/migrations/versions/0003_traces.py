"""Traces: HoneyHive sessions and events, OpenTelemetry spans.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BUCKETS = (
    "inputs",
    "outputs",
    "config",
    "metadata",
    "metrics",
    "feedback",
    "user_properties",
    "children_ids",
)
EVENT_INDEXES = (
    ("session_id", "start_time"),
    ("parent_id",),
    ("start_time",),
    ("end_time",),
    ("event_type", "start_time"),
    ("event_name", "start_time"),
    ("duration",),
    ("has_error", "start_time"),
)


def upgrade() -> None:
    op.create_table(
        "trace_events",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("event_name", sa.String(255), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("end_time", sa.Float, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("has_error", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=True),
        sa.Column("completion_tokens", sa.BigInteger, nullable=True),
        sa.Column("total_tokens", sa.BigInteger, nullable=True),
        sa.Column("cost", sa.Float, nullable=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in BUCKETS),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "event_id", name="pk_trace_events"),
    )
    for columns in EVENT_INDEXES:
        op.create_index(
            "ix_trace_events_project_id_" + "_".join(columns),
            "trace_events",
            ["project_id", *columns],
        )
    op.create_table(
        "trace_sessions",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("start_time", sa.Float, nullable=False),
        sa.Column("end_time", sa.Float, nullable=False),
        sa.Column("event_count", sa.BigInteger, nullable=False),
        sa.Column("model_event_count", sa.BigInteger, nullable=False),
        sa.Column("error_count", sa.BigInteger, nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False),
        sa.Column("total_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "session_id", name="pk_trace_sessions"),
    )
    op.create_index(
        "ix_trace_sessions_project_id_start_time", "trace_sessions", ["project_id", "start_time"]
    )
    op.create_table(
        "trace_session_properties",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "session_id", "name", name="pk_trace_session_properties"
        ),
    )
    op.create_index(
        "ix_trace_session_properties_project_id_name_value",
        "trace_session_properties",
        ["project_id", "name", "value"],
    )


def downgrade() -> None:
    for table in ("trace_session_properties", "trace_sessions", "trace_events"):
        op.drop_table(table)
