"""Foundation: projects, API keys, series, points, roll-ups, annotations.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID_TABLES = ("projects", "api_keys", "series", "annotations")


def upgrade() -> None:
    op.create_table(
        "id_counters",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_id_counters"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_api_keys"),
        sa.UniqueConstraint("id", name="uq_api_keys_id"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "series",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("labels_key", sa.String(1000), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_ts", sa.BigInteger, nullable=True),
        sa.Column("last_value", sa.Float, nullable=True),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_series"),
        sa.UniqueConstraint("id", name="uq_series_id"),
        sa.UniqueConstraint(
            "project_id", "name", "labels_key", name="uq_series_project_id_name_labels_key"
        ),
    )
    op.create_table(
        "points",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_points_project_id_series_id_ts", "points", ["project_id", "series_id", "ts"]
    )
    op.create_table(
        "rollups",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("bucket", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.Column("min", sa.Float, nullable=False),
        sa.Column("max", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "series_id", "tier", "bucket", name="pk_rollups"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "annotations",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_annotations"),
        sa.UniqueConstraint("id", name="uq_annotations_id"),
    )
    op.create_index("ix_annotations_project_id_ts", "annotations", ["project_id", "ts"])
    op.create_table(
        "annotation_series",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("annotation_id", sa.BigInteger, nullable=False),
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "annotation_id", "series_id", name="pk_annotation_series"
        ),
    )
    op.create_index(
        "ix_annotation_series_project_id_series_id",
        "annotation_series",
        ["project_id", "series_id"],
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
    for table in (
        "annotation_series",
        "annotations",
        "rollups",
        "points",
        "series",
        "api_keys",
        "projects",
        "id_counters",
    ):
        op.drop_table(table)
