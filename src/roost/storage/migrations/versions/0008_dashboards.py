"""Web app: dashboards, panels and shares.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID_TABLES = ("dashboards", "shares")


def upgrade() -> None:
    op.create_table(
        "dashboards",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_dashboards"),
        sa.UniqueConstraint("id", name="uq_dashboards_id"),
    )
    op.create_table(
        "dashboard_panels",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("dashboard_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("stat_id", sa.BigInteger, nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint(
            "project_id", "dashboard_id", "position", name="pk_dashboard_panels"
        ),
    )
    op.create_table(
        "shares",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("dashboard_id", sa.BigInteger, nullable=True),
        sa.Column("stat_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_shares"),
        sa.UniqueConstraint("id", name="uq_shares_id"),
        sa.UniqueConstraint("token", name="uq_shares_token"),
    )
    op.create_index("ix_shares_project_id_dashboard_id", "shares", ["project_id", "dashboard_id"])
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
    op.drop_index("ix_shares_project_id_dashboard_id", table_name="shares")
    op.drop_table("shares")
    op.drop_table("dashboard_panels")
    op.drop_table("dashboards")
