"""HawkFlow process monitoring: processes, runs, exception groups and occurrences.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID_TABLES = ("processes", "runs", "exception_groups", "exceptions")


def _id_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "processes",
        *_id_columns(),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("meta", sa.String(500), nullable=False),
        sa.Column("ident", sa.String(64), nullable=False),
        sa.Column("duration_series_id", sa.BigInteger, nullable=False),
        sa.Column("exceptions_series_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_processes"),
        sa.UniqueConstraint("id", name="uq_processes_id"),
        sa.UniqueConstraint("project_id", "ident", name="uq_processes_project_id_ident"),
    )
    op.create_table(
        "process_metrics",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("process_id", sa.BigInteger, nullable=False),
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "process_id", "series_id", name="pk_process_metrics"),
    )
    op.create_table(
        "runs",
        *_id_columns(),
        sa.Column("process_id", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.String(50), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=True),
        sa.Column("ended_at", sa.BigInteger, nullable=True),
        sa.Column("duration_ms", sa.BigInteger, nullable=True),
        sa.Column("info", sa.Text, nullable=True),
        sa.Column("exception_count", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_runs"),
        sa.UniqueConstraint("id", name="uq_runs_id"),
    )
    op.create_index(
        "ix_runs_project_id_process_id_status_uid_started_at",
        "runs",
        ["project_id", "process_id", "status", "uid", "started_at"],
    )
    op.create_index(
        "ix_runs_project_id_process_id_seen_at", "runs", ["project_id", "process_id", "seen_at"]
    )
    op.create_index("ix_runs_status_started_at", "runs", ["status", "started_at"])
    op.create_table(
        "exception_groups",
        *_id_columns(),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("process_name", sa.String(250), nullable=False),
        sa.Column("type", sa.String(250), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("first_seen", sa.BigInteger, nullable=False),
        sa.Column("last_seen", sa.BigInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_exception_groups"),
        sa.UniqueConstraint("id", name="uq_exception_groups_id"),
        sa.UniqueConstraint(
            "project_id", "fingerprint", name="uq_exception_groups_project_id_fingerprint"
        ),
    )
    op.create_index(
        "ix_exception_groups_project_id_last_seen",
        "exception_groups",
        ["project_id", "last_seen"],
    )
    op.create_table(
        "exceptions",
        *_id_columns(),
        sa.Column("group_id", sa.BigInteger, nullable=False),
        sa.Column("process_id", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=True),
        sa.Column("occurred_at", sa.BigInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_exceptions"),
        sa.UniqueConstraint("id", name="uq_exceptions_id"),
    )
    op.create_index(
        "ix_exceptions_project_id_group_id_occurred_at",
        "exceptions",
        ["project_id", "group_id", "occurred_at"],
    )
    op.create_index(
        "ix_exceptions_project_id_process_id_occurred_at",
        "exceptions",
        ["project_id", "process_id", "occurred_at"],
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
    for table in ("exceptions", "exception_groups", "runs", "process_metrics", "processes"):
        op.drop_table(table)
