"""Alerts, their per-key states and history, silences; when an exception group last opened.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID_TABLES = ("alerts", "alert_events", "silences")


def _id_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "alerts",
        *_id_columns(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("channel_ids", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("for_seconds", sa.Integer, nullable=False),
        sa.Column("repeat_every", sa.Integer, nullable=True),
        sa.Column("stat_id", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_value", sa.Float, nullable=True),
        sa.Column("last_evaluated_at", sa.BigInteger, nullable=True),
        sa.Column("fired_at", sa.BigInteger, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_alerts"),
        sa.UniqueConstraint("id", name="uq_alerts_id"),
    )
    op.create_index("ix_alerts_enabled", "alerts", ["enabled"])
    op.create_table(
        "alert_states",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("alert_id", sa.BigInteger, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("label", sa.String(500), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("pending_since", sa.BigInteger, nullable=True),
        sa.Column("fired_at", sa.BigInteger, nullable=True),
        sa.Column("last_notified_at", sa.BigInteger, nullable=True),
        sa.Column("mark", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("project_id", "alert_id", "key", name="pk_alert_states"),
    )
    op.create_table(
        "alert_events",
        *_id_columns(),
        sa.Column("alert_id", sa.BigInteger, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("label", sa.String(500), nullable=True),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("notified", sa.Boolean, nullable=False),
        sa.Column("silenced", sa.Boolean, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_alert_events"),
        sa.UniqueConstraint("id", name="uq_alert_events_id"),
    )
    op.create_index(
        "ix_alert_events_project_id_alert_id_id", "alert_events", ["project_id", "alert_id", "id"]
    )
    op.create_table(
        "silences",
        *_id_columns(),
        sa.Column("alert_id", sa.BigInteger, nullable=True),
        sa.Column("until", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_silences"),
        sa.UniqueConstraint("id", name="uq_silences_id"),
    )
    op.create_index("ix_silences_project_id_until", "silences", ["project_id", "until"])
    # When a group last went from resolved (or new) to open, so an alert can tell a reopened
    # group from one that kept its status.
    op.add_column("exception_groups", sa.Column("opened_at", sa.BigInteger, nullable=True))
    op.execute("UPDATE exception_groups SET opened_at = first_seen")
    counters = sa.table("id_counters", sa.column("name"), sa.column("value"))
    op.bulk_insert(counters, [{"name": name, "value": 0} for name in ID_TABLES])
    if op.get_bind().dialect.name == "postgresql":
        for name in ID_TABLES:
            op.execute(f"CREATE SEQUENCE {name}_id_seq")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ID_TABLES:
            op.execute(f"DROP SEQUENCE {name}_id_seq")
    op.execute(
        sa.delete(sa.table("id_counters", sa.column("name"))).where(
            sa.column("name").in_(ID_TABLES)
        )
    )
    with op.batch_alter_table("exception_groups") as batch:
        batch.drop_column("opened_at")
    op.drop_index("ix_silences_project_id_until", table_name="silences")
    op.drop_table("silences")
    op.drop_index("ix_alert_events_project_id_alert_id_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_states")
    op.drop_index("ix_alerts_enabled", table_name="alerts")
    op.drop_table("alerts")
