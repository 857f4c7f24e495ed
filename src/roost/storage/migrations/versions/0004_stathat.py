"""StatHat compatibility: classic keys, key aliases, imports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID_TABLES = ("stathat_imports",)
CLASSIC_KEY_BYTES = 16  # as roost.domain.stathat makes them; a migration keeps its own copy


def upgrade() -> None:
    # A plain ADD COLUMN (nullable) works on both engines without rebuilding the table.
    op.add_column("series", sa.Column("classic_key", sa.String(255), nullable=True))
    series = sa.table("series", sa.column("project_id"), sa.column("id"), sa.column("classic_key"))
    bind = op.get_bind()
    existing = bind.execute(sa.select(series.c.project_id, series.c.id)).all()
    for project_id, series_id in existing:
        bind.execute(
            sa.update(series)
            .where(series.c.project_id == project_id, series.c.id == series_id)
            .values(classic_key=secrets.token_urlsafe(CLASSIC_KEY_BYTES))
        )
    op.create_index(
        "ix_series_project_id_classic_key", "series", ["project_id", "classic_key"], unique=True
    )
    op.create_table(
        "api_key_aliases",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.BigInteger, nullable=False),
        sa.Column("alias", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "key_id", "alias", name="pk_api_key_aliases"),
        sa.UniqueConstraint("alias", name="uq_api_key_aliases_alias"),
    )
    op.create_table(
        "stathat_imports",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("runner", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("access_token", sa.String(200), nullable=True),
        sa.Column("snapshot_at", sa.BigInteger, nullable=False),
        sa.Column("listed", sa.Boolean, nullable=False),
        sa.Column("stats_total", sa.Integer, nullable=False),
        sa.Column("stats_done", sa.Integer, nullable=False),
        sa.Column("points_imported", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=True),
        sa.Column("finished_at", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_stathat_imports"),
        sa.UniqueConstraint("id", name="uq_stathat_imports_id"),
    )
    op.create_index("ix_stathat_imports_state", "stathat_imports", ["state"])
    op.create_table(
        "stathat_import_stats",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("import_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("counter", sa.Boolean, nullable=False),
        sa.Column("classic_key", sa.String(255), nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=True),
        sa.Column("series_id", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tier", sa.Integer, nullable=True),
        sa.Column("cursor", sa.BigInteger, nullable=True),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "import_id", "position", name="pk_stathat_import_stats"
        ),
    )
    op.create_table(
        "stathat_imported_buckets",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("bucket", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("sum", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "series_id", "tier", "bucket", name="pk_stathat_imported_buckets"
        ),
        sqlite_with_rowid=False,
    )
    counters = sa.table("id_counters", sa.column("name"), sa.column("value"))
    op.bulk_insert(counters, [{"name": name, "value": 0} for name in ID_TABLES])
    if bind.dialect.name == "postgresql":
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
    for table in (
        "stathat_imported_buckets",
        "stathat_import_stats",
        "stathat_imports",
        "api_key_aliases",
    ):
        op.drop_table(table)
    op.drop_index("ix_series_project_id_classic_key", table_name="series")
    # batch mode: SQLite rebuilds the table to drop a column.
    with op.batch_alter_table("series") as batch:
        batch.drop_column("classic_key")
