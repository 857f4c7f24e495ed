"""Messages: the records agents emitted, written once per transaction on the ingest path."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select

from roost.storage import dialects
from roost.storage.agents import add_to_counts
from roost.storage.schema import messages

# Driver-level, like the points insert: it runs in every group commit that carries ingest.
_INSERT = "INSERT INTO messages (project_id, id, agent_id, created_at, payload) VALUES {rows}"


@dataclass(frozen=True, slots=True)
class MessageRow:
    project_id: int
    id: int
    agent_id: int
    created_at: int
    payload: str | None  # only read for the single-message endpoint


def insert_messages(
    conn: Connection, *, project_id: int, rows: Sequence[tuple[int, int, str]]
) -> None:
    """Store (agent id, created_at, payload JSON) rows, ids in their order, and count them."""
    if not rows:
        return
    ids = dialects.reserve_ids(conn, "messages", len(rows))
    dialects.insert_many(
        conn,
        _INSERT,
        [
            (project_id, message_id, agent_id, created_at, payload)
            for message_id, (agent_id, created_at, payload) in zip(ids, rows, strict=True)
        ],
        5,
    )
    counts: dict[int, int] = {}
    for agent_id, _, _ in rows:
        counts[agent_id] = counts.get(agent_id, 0) + 1
    add_to_counts(conn, project_id=project_id, counts=counts)


def list_messages(
    conn: Connection,
    *,
    project_id: int,
    agent_id: int,
    created_after: int | None,
    limit: int | None,
) -> list[MessageRow]:
    """The agent's messages created after ``created_after``, newest (highest id) first."""
    query = select(messages.c.id, messages.c.created_at).where(
        messages.c.project_id == project_id, messages.c.agent_id == agent_id
    )
    if created_after is not None:
        query = query.where(messages.c.created_at > created_after)
    query = query.order_by(messages.c.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [
        MessageRow(project_id, message_id, agent_id, created_at, None)
        for message_id, created_at in conn.execute(query)
    ]


def get_message(
    conn: Connection, *, project_ids: Collection[int], message_id: int
) -> MessageRow | None:
    found = conn.execute(
        select(messages).where(
            messages.c.project_id.in_(sorted(project_ids)), messages.c.id == message_id
        )
    ).first()
    if found is None:
        return None
    return MessageRow(found.project_id, found.id, found.agent_id, found.created_at, found.payload)


def delete_before(conn: Connection, *, cutoff: int, limit: int) -> int:
    """Delete up to ``limit`` of the oldest messages created before ``cutoff`` (any project),
    taking them off their agents' counts; returns how many went."""
    rows = conn.execute(
        select(messages.c.project_id, messages.c.id, messages.c.agent_id)
        .where(messages.c.created_at < cutoff)
        .order_by(messages.c.created_at)
        .limit(limit)
    ).all()
    by_project: dict[int, list[int]] = {}
    counts: dict[int, dict[int, int]] = {}
    for project_id, message_id, agent_id in rows:
        by_project.setdefault(project_id, []).append(message_id)
        per_agent = counts.setdefault(project_id, {})
        per_agent[agent_id] = per_agent.get(agent_id, 0) - 1
    for project_id, ids in by_project.items():
        for start in range(0, len(ids), 500):
            conn.execute(
                delete(messages).where(
                    messages.c.project_id == project_id, messages.c.id.in_(ids[start : start + 500])
                )
            )
        add_to_counts(conn, project_id=project_id, counts=counts[project_id])
    return len(rows)


def count_messages(conn: Connection, *, project_id: int, agent_id: int) -> int:
    """Exact count by scanning the agent's index entries (tests; the API reads the counter)."""
    return int(
        conn.execute(
            select(func.count()).where(
                messages.c.project_id == project_id, messages.c.agent_id == agent_id
            )
        ).scalar_one()
    )
