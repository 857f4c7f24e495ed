"""Notification channels, the notification outbox and the delivery log.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID_TABLES = ("channels", "notification_outbox", "deliveries")


def _id_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "channels",
        *_id_columns(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("masked_url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(100), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_channels"),
        sa.UniqueConstraint("id", name="uq_channels_id"),
    )
    op.create_table(
        "notification_outbox",
        *_id_columns(),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("alert_id", sa.BigInteger, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
        sa.Column("claimed_until", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_notification_outbox"),
        sa.UniqueConstraint("id", name="uq_notification_outbox_id"),
    )
    op.create_index(
        "ix_notification_outbox_state_next_attempt_at",
        "notification_outbox",
        ["state", "next_attempt_at"],
    )
    op.create_table(
        "deliveries",
        *_id_columns(),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("outbox_id", sa.BigInteger, nullable=True),
        sa.Column("alert_id", sa.BigInteger, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_deliveries"),
        sa.UniqueConstraint("id", name="uq_deliveries_id"),
    )
    op.create_index(
        "ix_deliveries_project_id_channel_id_id", "deliveries", ["project_id", "channel_id", "id"]
    )
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
    op.drop_index("ix_deliveries_project_id_channel_id_id", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_notification_outbox_state_next_attempt_at", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_table("channels")
