"""Agents, messages and workflows (ActiveWorkflow API).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID_TABLES = ("agents", "messages", "workflows")


def _id_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "agents",
        *_id_columns(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(300), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("guid", sa.String(32), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("messages_count", sa.BigInteger, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("schedule", sa.String(16), nullable=True),
        sa.Column("keep_messages_for", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_agents"),
        sa.UniqueConstraint("id", name="uq_agents_id"),
        sa.UniqueConstraint("project_id", "kind", "ref", name="uq_agents_project_id_kind_ref"),
        sa.UniqueConstraint("project_id", "guid", name="uq_agents_project_id_guid"),
    )
    op.create_table(
        "messages",
        *_id_columns(),
        sa.Column("agent_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_messages"),
    )
    op.create_index(
        "ix_messages_project_id_agent_id_id", "messages", ["project_id", "agent_id", "id"]
    )
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_table(
        "agent_links",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("source_id", sa.BigInteger, nullable=False),
        sa.Column("receiver_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "kind", "source_id", "receiver_id", name="pk_agent_links"
        ),
    )
    op.create_index(
        "ix_agent_links_project_id_receiver_id", "agent_links", ["project_id", "receiver_id"]
    )
    op.create_table(
        "workflows",
        *_id_columns(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("guid", sa.String(32), nullable=False),
        sa.Column("tag_fg_color", sa.String(7), nullable=True),
        sa.Column("tag_bg_color", sa.String(7), nullable=True),
        sa.Column("icon", sa.String(100), nullable=True),
        sa.Column("auto_key", sa.String(300), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_workflows"),
        sa.UniqueConstraint("id", name="uq_workflows_id"),
        sa.UniqueConstraint("project_id", "guid", name="uq_workflows_project_id_guid"),
        sa.UniqueConstraint("project_id", "auto_key", name="uq_workflows_project_id_auto_key"),
    )
    op.create_table(
        "workflow_agents",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("workflow_id", sa.BigInteger, nullable=False),
        sa.Column("agent_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "workflow_id", "agent_id", name="pk_workflow_agents"),
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
    op.drop_table("workflow_agents")
    op.drop_table("workflows")
    op.drop_index("ix_agent_links_project_id_receiver_id", table_name="agent_links")
    op.drop_table("agent_links")
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index("ix_messages_project_id_agent_id_id", table_name="messages")
    op.drop_table("messages")
    op.drop_table("agents")
