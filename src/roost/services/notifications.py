"""Notification channels and their outbox: channel use cases, ``enqueue`` for the alert
engine, and the claim → send → record steps the dispatcher runs.

A notification is written to the outbox in the caller's transaction, so it exists exactly
when the state change that caused it was committed; the dispatcher delivers it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import orjson
from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.storage import channels as channel_store
from roost.storage.channels import ChannelRow, ClaimedRow, DeliveryRow
from roost.storage.writer import WriteTx

MAX_PAYLOAD_BYTES = 64 * 1024


class AlertPayload(TypedDict, total=False):
    """What the alert engine puts in a notification; the webhook body is exactly this JSON.

    Apprise services get a text rendering: ``[STATE] alert_name`` and one line per field.
    """

    event: str  # "alert" (a channel test sends "test")
    alert_id: int
    alert_name: str
    state: str  # "firing" or "resolved"
    value: float | None
    condition: str  # e.g. "mean over 5m > 100"
    series_id: int | None
    series_name: str | None
    project: str
    time: str  # ISO 8601, UTC
    url: str  # a link to the alert


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed outbox row with the channel it goes to."""

    row: ClaimedRow
    channel: ChannelRow

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads(self.row.payload)
        return loaded


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries; the wait before try n+1 is ``first_delay_ms`` doubled n-1 times."""

    attempts: int
    first_delay_ms: int

    def delay_ms(self, attempt: int) -> int:
        return self.first_delay_ms * 2 ** (attempt - 1)


# -- channels --


def create_channel(
    tx: WriteTx,
    *,
    project_id: int,
    name: str,
    kind: str,
    url: str,
    masked_url: str,
    secret: str | None,
    now: int,
) -> ChannelRow:
    """Store a channel whose URL the caller validated (``alerting.channels.parse_url``)."""
    return channel_store.insert_channel(
        tx.conn,
        project_id=project_id,
        name=name,
        kind=kind,
        url=url,
        masked_url=masked_url,
        secret=secret,
        now=now,
    )


def list_channels(
    conn: Connection, *, project_id: int, before: int | None, limit: int
) -> list[ChannelRow]:
    return channel_store.list_channels(conn, project_id=project_id, before=before, limit=limit)


def get_channel(conn: Connection, *, project_id: int, channel_id: int) -> ChannelRow:
    found = channel_store.get_channel(conn, project_id=project_id, channel_id=channel_id)
    if found is None:
        raise NotFound("channel not found")
    return found


def delete_channel(tx: WriteTx, *, project_id: int, channel_id: int) -> NotFound | None:
    if not channel_store.delete_channel(tx.conn, project_id=project_id, channel_id=channel_id):
        return NotFound("channel not found")
    return None


def list_deliveries(
    conn: Connection, *, project_id: int, channel_id: int, before: int | None, limit: int
) -> list[DeliveryRow]:
    get_channel(conn, project_id=project_id, channel_id=channel_id)
    return channel_store.list_deliveries(
        conn, project_id=project_id, channel_id=channel_id, before=before, limit=limit
    )


def record_test(
    tx: WriteTx, *, project_id: int, channel_id: int, ok: bool, error: str | None, now: int
) -> DeliveryRow:
    """Log a channel test in the channel's delivery log (no alert, attempt 1)."""
    return channel_store.insert_delivery(
        tx.conn,
        project_id=project_id,
        channel_id=channel_id,
        outbox_id=None,
        alert_id=None,
        attempt=1,
        ok=ok,
        error=error,
        at=now,
    )


# -- the outbox --


def enqueue(
    tx: WriteTx,
    *,
    project_id: int,
    alert_id: int | None,
    channel_ids: list[int],
    payload: dict[str, Any],
    now: int | None = None,
) -> None:
    """Queue ``payload`` for each channel (one outbox row per channel), in the caller's
    transaction: call it in the same write job that commits the alert's state change.

    A channel id of another project, or of no channel, raises ``NotFound`` (and the caller's
    job fails with it, so nothing half-queued is committed).
    """
    wanted = list(dict.fromkeys(channel_ids))
    if not wanted:
        return
    if not isinstance(payload, dict):
        raise InvalidInput("payload", "must be a JSON object")
    try:
        encoded = orjson.dumps(payload).decode()
    except TypeError as exc:
        raise InvalidInput("payload", f"must be JSON: {exc}") from None
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise InvalidInput("payload", f"larger than {MAX_PAYLOAD_BYTES} bytes")
    found = channel_store.existing_channel_ids(tx.conn, project_id=project_id, channel_ids=wanted)
    missing = [channel_id for channel_id in wanted if channel_id not in found]
    if missing:
        raise NotFound(f"channel {missing[0]} not found")
    channel_store.insert_outbox_rows(
        tx.conn,
        project_id=project_id,
        alert_id=alert_id,
        channel_ids=wanted,
        payload=encoded,
        now=now_ms() if now is None else now,
    )


def claim_due(tx: WriteTx, *, now: int, lease_until: int, limit: int) -> list[Claim]:
    """Claim up to ``limit`` due rows (every project) for sending until ``lease_until``.

    Each claim is a conditional UPDATE, so a row is never claimed twice while its lease runs.
    """
    conn = tx.conn
    claimed = [
        outbox_id
        for outbox_id in channel_store.due_outbox_ids(conn, now=now, limit=limit)
        if channel_store.claim_outbox_row(
            conn, outbox_id=outbox_id, now=now, lease_until=lease_until
        )
    ]
    rows = channel_store.claimed_rows(conn, claimed)
    found = channel_store.channels_by_id(conn, sorted({row.channel_id for row in rows}))
    claims = []
    for row in rows:
        channel = found.get(row.channel_id)
        if channel is None or channel.project_id != row.project_id:  # deleted meanwhile
            channel_store.finish_attempt(
                conn,
                outbox_id=row.id,
                attempt=row.attempt,
                state=channel_store.FAILED,
                next_attempt_at=now,
                now=now,
            )
            continue
        claims.append(Claim(row, channel))
    return claims


def record_attempt(
    tx: WriteTx,
    *,
    claim: ClaimedRow,
    ok: bool,
    error: str | None,
    now: int,
    policy: RetryPolicy,
) -> str:
    """Log the attempt and move the row on: delivered, retried later, or failed for good.

    Returns the row's new state; "lost" when the claim had expired and another send took
    the row over (its outcome is still logged)."""
    if ok:
        state, next_at = channel_store.DELIVERED, now
    elif claim.attempt >= policy.attempts:
        state, next_at = channel_store.FAILED, now
    else:
        state, next_at = channel_store.PENDING, now + policy.delay_ms(claim.attempt)
    channel_store.insert_delivery(
        tx.conn,
        project_id=claim.project_id,
        channel_id=claim.channel_id,
        outbox_id=claim.id,
        alert_id=claim.alert_id,
        attempt=claim.attempt,
        ok=ok,
        error=error,
        at=now,
    )
    moved = channel_store.finish_attempt(
        tx.conn,
        outbox_id=claim.id,
        attempt=claim.attempt,
        state=state,
        next_attempt_at=next_at,
        now=now,
    )
    return state if moved else "lost"


def outbox_states(conn: Connection, *, project_id: int) -> list[tuple[int, str, int]]:
    return channel_store.outbox_states(conn, project_id=project_id)


def find_channel(conn: Connection, channel_id: int) -> ChannelRow:
    """A channel by id, whatever its project (the operator's CLI)."""
    found = channel_store.channels_by_id(conn, [channel_id]).get(channel_id)
    if found is None:
        raise NotFound(f"channel {channel_id} not found")
    return found
