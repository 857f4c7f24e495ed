"""Messages: the records agents emitted, stored as one block per agent per transaction.

A group commit carries many requests from few agents (a busy process's hundred starts and
ends), so the messages of one agent from one transaction share a row: one index entry and one
counter update instead of one per message, which kept message recording within a few percent
of ingest's own cost. A message's id is its block's id times ``BLOCK_SIZE`` plus its place in
the block, so ids stay unique, grow with time, and lead straight to their row. Block ids are
drawn by the database on insert (see ``schema.message_blocks``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select

from roost.storage import dialects
from roost.storage.agents import add_to_counts
from roost.storage.schema import message_blocks

BLOCK_SIZE = 1024  # messages per block at most

# Driver-level, like the points insert: it runs in every group commit that carries ingest.
_INSERT = (
    "INSERT INTO message_blocks (project_id, agent_id, created_at, count, payloads) VALUES {rows}"
)

# (agent id, newest created_at, its [created_at, payload] pairs in order)
Block = tuple[int, int, list[list[Any]]]


@dataclass(frozen=True, slots=True)
class MessageRow:
    project_id: int
    id: int
    agent_id: int
    created_at: int
    payload: Any  # the JSON payload, decoded


def message_id(block_id: int, index: int) -> int:
    return block_id * BLOCK_SIZE + index


def insert_blocks(conn: Connection, *, project_id: int, blocks: Sequence[Block]) -> None:
    """Store each agent's messages of this transaction as one block (more than ``BLOCK_SIZE``
    of them as several), and count them on their agents."""
    if not blocks:
        return
    rows: list[tuple[int, int, int, int, str]] = []
    counts: dict[int, int] = {}
    for agent_id, latest, pairs in blocks:
        counts[agent_id] = counts.get(agent_id, 0) + len(pairs)
        for start in range(0, len(pairs), BLOCK_SIZE):
            chunk = pairs[start : start + BLOCK_SIZE]
            newest = latest if len(chunk) == len(pairs) else max(at for at, _ in chunk)
            rows.append((project_id, agent_id, newest, len(chunk), orjson.dumps(chunk).decode()))
    dialects.insert_many(conn, _INSERT, rows, 5)
    add_to_counts(conn, project_id=project_id, counts=counts)


def _unpack(project_id: int, block_id: int, agent_id: int, payloads: str) -> list[MessageRow]:
    return [
        MessageRow(project_id, message_id(block_id, index), agent_id, created_at, payload)
        for index, (created_at, payload) in enumerate(orjson.loads(payloads))
    ]


def list_messages(
    conn: Connection,
    *,
    project_id: int,
    agent_id: int,
    created_after: int | None,
    limit: int | None,
) -> list[MessageRow]:
    """The agent's messages created after ``created_after``, newest (highest id) first."""
    blocks = message_blocks.c
    query = select(blocks.id, blocks.payloads).where(
        blocks.project_id == project_id, blocks.agent_id == agent_id
    )
    if created_after is not None:
        # A block's created_at is its newest message's: older ones are filtered below.
        query = query.where(blocks.created_at > created_after)
    query = query.order_by(blocks.id.desc())
    if limit is not None:
        query = query.limit(limit)  # every block holds at least one message
    found: list[MessageRow] = []
    for block_id, payloads in conn.execute(query):
        unpacked = _unpack(project_id, block_id, agent_id, payloads)
        found.extend(
            row
            for row in reversed(unpacked)
            if created_after is None or row.created_at > created_after
        )
        if limit is not None and len(found) >= limit:
            break
    return found if limit is None else found[:limit]


def get_message(
    conn: Connection, *, project_ids: Collection[int], message_id: int
) -> MessageRow | None:
    block_id, index = divmod(message_id, BLOCK_SIZE)
    blocks = message_blocks.c
    found = conn.execute(
        select(blocks.project_id, blocks.agent_id, blocks.count, blocks.payloads).where(
            blocks.project_id.in_(sorted(project_ids)), blocks.id == block_id
        )
    ).first()
    if found is None or index >= found[2]:
        return None
    project_id, agent_id, _, payloads = found
    return _unpack(project_id, block_id, agent_id, payloads)[index]


def delete_before(conn: Connection, *, cutoff: int, limit: int) -> int:
    """Delete the oldest blocks (up to ``limit``, any project) whose every message was created
    before ``cutoff``, taking them off their agents' counts; returns how many messages went.

    Walks the key from the oldest block and stops at the first one still live: ids follow
    commit order, so a block the walk stops short of is at most a few milliseconds younger
    than its predecessors, and goes on a later pass.
    """
    blocks = message_blocks.c
    # By position, not attribute: a Row's ``count`` is the tuple method, not the column.
    oldest = conn.execute(
        select(blocks.id, blocks.project_id, blocks.agent_id, blocks.count, blocks.created_at)
        .order_by(blocks.id)
        .limit(limit)
    ).all()
    expired = list(takewhile(lambda row: row[4] < cutoff, oldest))
    if not expired:
        return 0
    counts: dict[int, dict[int, int]] = {}
    for _, project_id, agent_id, count, _ in expired:
        per_agent = counts.setdefault(project_id, {})
        per_agent[agent_id] = per_agent.get(agent_id, 0) - count
    conn.execute(delete(message_blocks).where(blocks.id <= expired[-1][0]))
    for project_id, per_agent in counts.items():
        add_to_counts(conn, project_id=project_id, counts=per_agent)
    return sum(row[3] for row in expired)


def count_messages(conn: Connection, *, project_id: int, agent_id: int) -> int:
    """Exact count from the agent's blocks (tests; the API reads the counter)."""
    total = conn.execute(
        select(func.coalesce(func.sum(message_blocks.c.count), 0)).where(
            message_blocks.c.project_id == project_id, message_blocks.c.agent_id == agent_id
        )
    ).scalar_one()
    return int(total)
