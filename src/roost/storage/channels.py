"""SQL for notification channels, the notification outbox and the delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, or_, select, update

from roost.storage import dialects
from roost.storage.schema import channels, deliveries, notification_outbox

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: int
    project_id: int
    name: str
    kind: str
    url: str  # credentials included: for sending only, never shown
    masked_url: str
    secret: str | None  # never shown after creation
    created_at: int


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    project_id: int
    channel_id: int
    outbox_id: int | None
    alert_id: int | None
    attempt: int
    ok: bool
    error: str | None
    at: int


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """One claimed outbox row and what sending it needs."""

    id: int
    project_id: int
    channel_id: int
    alert_id: int | None
    payload: str
    attempt: int  # the number of this attempt, from 1


def _channel(row: RowMapping) -> ChannelRow:
    return ChannelRow(**dict(row))


def _delivery(row: RowMapping) -> DeliveryRow:
    return DeliveryRow(**dict(row))


def insert_channel(
    conn: Connection,
    *,
    project_id: int,
    name: str,
    kind: str,
    url: str,
    masked_url: str,
    secret: str | None,
    now: int,
) -> ChannelRow:
    values: dict[str, Any] = {
        "project_id": project_id,
        "id": dialects.next_id(conn, "channels"),
        "name": name,
        "kind": kind,
        "url": url,
        "masked_url": masked_url,
        "secret": secret,
        "created_at": now,
    }
    conn.execute(insert(channels).values(values))
    return ChannelRow(**values)


def get_channel(conn: Connection, *, project_id: int, channel_id: int) -> ChannelRow | None:
    found = (
        conn.execute(
            select(channels).where(channels.c.project_id == project_id, channels.c.id == channel_id)
        )
        .mappings()
        .first()
    )
    return _channel(found) if found else None


def channels_by_id(conn: Connection, channel_ids: list[int]) -> dict[int, ChannelRow]:
    """Channels by id across projects (for the dispatcher, which serves every project)."""
    if not channel_ids:
        return {}
    rows = conn.execute(select(channels).where(channels.c.id.in_(channel_ids))).mappings()
    return {row["id"]: _channel(row) for row in rows}


def existing_channel_ids(conn: Connection, *, project_id: int, channel_ids: list[int]) -> set[int]:
    rows = conn.execute(
        select(channels.c.id).where(
            channels.c.project_id == project_id, channels.c.id.in_(channel_ids)
        )
    )
    return {int(row[0]) for row in rows}


def list_channels(
    conn: Connection, *, project_id: int, before: int | None, limit: int
) -> list[ChannelRow]:
    """Newest channel first (by id)."""
    query = select(channels).where(channels.c.project_id == project_id)
    if before is not None:
        query = query.where(channels.c.id < before)
    rows = conn.execute(query.order_by(channels.c.id.desc()).limit(limit)).mappings()
    return [_channel(row) for row in rows]


def delete_channel(conn: Connection, *, project_id: int, channel_id: int) -> bool:
    """Delete the channel, its unsent notifications and its delivery log."""
    result = conn.execute(
        delete(channels).where(channels.c.project_id == project_id, channels.c.id == channel_id)
    )
    if result.rowcount == 0:
        return False
    for table in (notification_outbox, deliveries):
        conn.execute(
            delete(table).where(table.c.project_id == project_id, table.c.channel_id == channel_id)
        )
    return True


def insert_outbox_rows(
    conn: Connection,
    *,
    project_id: int,
    alert_id: int | None,
    channel_ids: list[int],
    payload: str,
    now: int,
) -> list[int]:
    ids = dialects.reserve_ids(conn, "notification_outbox", len(channel_ids))
    conn.execute(
        insert(notification_outbox),
        [
            {
                "project_id": project_id,
                "id": outbox_id,
                "channel_id": channel_id,
                "alert_id": alert_id,
                "payload": payload,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "claimed_until": None,
                "created_at": now,
                "finished_at": None,
            }
            for outbox_id, channel_id in zip(ids, channel_ids, strict=True)
        ],
    )
    return ids


def due_outbox_ids(conn: Connection, *, now: int, limit: int) -> list[int]:
    """Rows ready to send: pending and due, or claimed by a node that never recorded them."""
    box = notification_outbox.c
    query = (
        select(box.id)
        .where(
            or_(
                (box.state == PENDING) & (box.next_attempt_at <= now),
                (box.state == SENDING) & (box.claimed_until < now),
            )
        )
        .order_by(box.next_attempt_at, box.id)
        .limit(limit)
    )
    return [int(row[0]) for row in conn.execute(query)]


def claim_outbox_row(conn: Connection, *, outbox_id: int, now: int, lease_until: int) -> bool:
    """Take one due row for sending. Conditional, so two claimers can never both win it."""
    box = notification_outbox.c
    result = conn.execute(
        update(notification_outbox)
        .where(
            box.id == outbox_id,
            or_(
                (box.state == PENDING) & (box.next_attempt_at <= now),
                (box.state == SENDING) & (box.claimed_until < now),
            ),
        )
        .values(state=SENDING, attempts=box.attempts + 1, claimed_until=lease_until)
    )
    return result.rowcount == 1


def claimed_rows(conn: Connection, outbox_ids: list[int]) -> list[ClaimedRow]:
    if not outbox_ids:
        return []
    box = notification_outbox.c
    rows = conn.execute(
        select(box.id, box.project_id, box.channel_id, box.alert_id, box.payload, box.attempts)
        .where(box.id.in_(outbox_ids))
        .order_by(box.id)
    )
    return [
        ClaimedRow(
            id=row.id,
            project_id=row.project_id,
            channel_id=row.channel_id,
            alert_id=row.alert_id,
            payload=row.payload,
            attempt=row.attempts,
        )
        for row in rows
    ]


def finish_attempt(
    conn: Connection,
    *,
    outbox_id: int,
    attempt: int,
    state: str,
    next_attempt_at: int,
    now: int,
) -> bool:
    """Record the outcome of a claimed send; False when the claim was lost meanwhile."""
    box = notification_outbox.c
    done = state in (DELIVERED, FAILED)
    result = conn.execute(
        update(notification_outbox)
        .where(box.id == outbox_id, box.state == SENDING, box.attempts == attempt)
        .values(
            state=state,
            next_attempt_at=next_attempt_at,
            claimed_until=None,
            finished_at=now if done else None,
        )
    )
    return result.rowcount == 1


def insert_delivery(
    conn: Connection,
    *,
    project_id: int,
    channel_id: int,
    outbox_id: int | None,
    alert_id: int | None,
    attempt: int,
    ok: bool,
    error: str | None,
    at: int,
) -> DeliveryRow:
    values: dict[str, Any] = {
        "project_id": project_id,
        "id": dialects.next_id(conn, "deliveries"),
        "channel_id": channel_id,
        "outbox_id": outbox_id,
        "alert_id": alert_id,
        "attempt": attempt,
        "ok": ok,
        "error": error,
        "at": at,
    }
    conn.execute(insert(deliveries).values(values))
    return DeliveryRow(**values)


def list_deliveries(
    conn: Connection, *, project_id: int, channel_id: int, before: int | None, limit: int
) -> list[DeliveryRow]:
    """Newest attempt first (by id)."""
    query = select(deliveries).where(
        deliveries.c.project_id == project_id, deliveries.c.channel_id == channel_id
    )
    if before is not None:
        query = query.where(deliveries.c.id < before)
    rows = conn.execute(query.order_by(deliveries.c.id.desc()).limit(limit)).mappings()
    return [_delivery(row) for row in rows]


def outbox_states(conn: Connection, *, project_id: int) -> list[tuple[int, str, int]]:
    """(id, state, attempts) of a project's outbox rows, oldest first (tests, diagnostics)."""
    box = notification_outbox.c
    rows = conn.execute(
        select(box.id, box.state, box.attempts).where(box.project_id == project_id).order_by(box.id)
    )
    return [(int(row[0]), str(row[1]), int(row[2])) for row in rows]
