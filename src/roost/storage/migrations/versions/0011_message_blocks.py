"""ActiveWorkflow messages in blocks: one row per agent per write transaction.

Each stored message becomes a block of one, and its id becomes ``id * 1024`` (a message's id
is its block's id times the block size plus its place in the block). Block ids are drawn by
the database (SQLite rowid, PostgreSQL bigserial), so the "messages" id counter goes. The
downgrade unpacks the blocks again, giving each message its id from the block's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BLOCK_SIZE = 1024
COPY_BATCH = 1000


def _create_blocks() -> None:
    op.create_table(
        "message_blocks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("agent_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("payloads", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_blocks"),
    )
    op.create_index(
        "ix_message_blocks_project_id_agent_id_id",
        "message_blocks",
        ["project_id", "agent_id", "id"],
    )


def _create_messages() -> None:
    op.create_table(
        "messages",
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("agent_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_messages"),
    )
    op.create_index(
        "ix_messages_project_id_agent_id_id", "messages", ["project_id", "agent_id", "id"]
    )
    op.create_index("ix_messages_created_at", "messages", ["created_at"])


MESSAGES = sa.table(
    "messages",
    sa.column("project_id"),
    sa.column("id"),
    sa.column("agent_id"),
    sa.column("created_at"),
    sa.column("payload"),
)
BLOCKS = sa.table(
    "message_blocks",
    sa.column("project_id"),
    sa.column("id"),
    sa.column("agent_id"),
    sa.column("created_at"),
    sa.column("count"),
    sa.column("payloads"),
)


Convert = Callable[[sa.RowMapping], list[dict[str, object]]]


def _copy(source: sa.TableClause, order: str, convert: Convert, target: sa.TableClause) -> None:
    """Copy every row of ``source`` into ``target`` in bounded batches, by (project, order)."""
    bind = op.get_bind()
    last = None
    while True:
        key = (source.c.project_id, source.c[order])
        query = sa.select(source).order_by(*key).limit(COPY_BATCH)
        if last is not None:
            query = query.where(sa.tuple_(*key) > sa.tuple_(*last))
        rows = bind.execute(query).mappings().all()
        if not rows:
            return
        converted = [new for row in rows for new in convert(row)]
        if converted:
            bind.execute(target.insert(), converted)
        last = (rows[-1]["project_id"], rows[-1][order])
        if len(rows) < COPY_BATCH:
            return


def _as_block(row: sa.RowMapping) -> list[dict[str, object]]:
    return [
        {
            "project_id": row["project_id"],
            "id": row["id"],
            "agent_id": row["agent_id"],
            "created_at": row["created_at"],
            "count": 1,
            "payloads": json.dumps([[row["created_at"], json.loads(row["payload"])]]),
        }
    ]


def _as_messages(row: sa.RowMapping) -> list[dict[str, object]]:
    return [
        {
            "project_id": row["project_id"],
            "id": row["id"] * BLOCK_SIZE + index,
            "agent_id": row["agent_id"],
            "created_at": created_at,
            "payload": json.dumps(payload),
        }
        for index, (created_at, payload) in enumerate(json.loads(row["payloads"]))
    ]


COUNTERS = sa.table("id_counters", sa.column("name"), sa.column("value"))


def _top(table: sa.TableClause) -> int:
    top = op.get_bind().execute(sa.select(sa.func.max(table.c.id))).scalar()
    return int(top or 0)


def upgrade() -> None:
    bind = op.get_bind()
    _create_blocks()
    _copy(MESSAGES, "id", _as_block, BLOCKS)
    if bind.dialect.name == "postgresql":
        # New blocks continue above the copied ids (SQLite's rowid does so by itself).
        top = _top(BLOCKS)
        if top:
            bind.execute(sa.text("SELECT setval('message_blocks_id_seq', :top)"), {"top": top})
        op.execute("DROP SEQUENCE messages_id_seq")
    op.execute(COUNTERS.delete().where(COUNTERS.c.name == "messages"))
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index("ix_messages_project_id_agent_id_id", table_name="messages")
    op.drop_table("messages")


def downgrade() -> None:
    bind = op.get_bind()
    _create_messages()
    _copy(BLOCKS, "id", _as_messages, MESSAGES)
    # New message ids must start above the unpacked ones.
    top = _top(MESSAGES)
    op.execute(COUNTERS.insert().values(name="messages", value=top))
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE messages_id_seq START WITH {top + 1}")
    op.drop_index("ix_message_blocks_project_id_agent_id_id", table_name="message_blocks")
    op.drop_table("message_blocks")
