"""``/api/v1/channels``: where notifications go, a test send, and the delivery log."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from roost.alerting import channels
from roost.alerting.channel_test import send_test
from roost.api.deps import get_store, parse_json_model
from roost.api.native.common import Before, Id, Limit, authorised, native_router, page, reading
from roost.api.responses import JSON
from roost.domain.keys import Scope
from roost.domain.times import format_iso, now_ms
from roost.services import notifications
from roost.storage.channels import ChannelRow, DeliveryRow

router = native_router("channels")

MAX_URL_CHARS = 2000


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    url: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS)
    ]


def channel_public(row: ChannelRow) -> dict[str, Any]:
    # Never the stored URL (it carries credentials) nor the secret.
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "url": row.masked_url,
        "created_at": format_iso(row.created_at),
    }


def delivery_public(row: DeliveryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "time": format_iso(row.at),
        "alert_id": row.alert_id,
        "attempt": row.attempt,
        "ok": row.ok,
        "error": row.error,
    }


@router.post("/channels", status_code=201)
async def create_channel(request: Request) -> JSON:
    """Add a channel (admin scope). A webhook's signing secret is in this answer only."""
    principal = await authorised(request, Scope.ADMIN)
    store = get_store(request)
    body = await parse_json_model(request, ChannelCreate, store.settings.max_body_bytes)
    # Apprise parses in Python and loads its plugins on first use: keep it off the loop.
    target = await run_in_threadpool(channels.parse_url, body.url)
    secret = channels.new_secret() if target.kind == channels.WEBHOOK else None
    row = await store.write(
        partial(
            notifications.create_channel,
            project_id=principal.project_id,
            name=body.name,
            kind=target.kind,
            url=target.url,
            masked_url=target.masked_url,
            secret=secret,
            now=now_ms(),
        )
    )
    answer = channel_public(row)
    if secret is not None:
        answer["secret"] = secret
    return JSON(answer, status_code=201)


@router.get("/channels")
def list_channels(request: Request, limit: Limit = 50, before: Before = None) -> JSON:
    """Channels, newest first (read scope)."""
    with reading(request) as (conn, principal):
        found = notifications.list_channels(
            conn, project_id=principal.project_id, before=before, limit=limit + 1
        )
    return JSON(page([channel_public(row) for row in found], limit))


@router.get("/channels/{channel_id}")
def get_channel(request: Request, channel_id: Id) -> JSON:
    with reading(request) as (conn, principal):
        row = notifications.get_channel(
            conn, project_id=principal.project_id, channel_id=channel_id
        )
    return JSON(channel_public(row))


@router.delete("/channels/{channel_id}", status_code=204)
async def delete_channel(request: Request, channel_id: Id) -> Response:
    """Remove a channel, its unsent notifications and its delivery log (admin scope)."""
    principal = await authorised(request, Scope.ADMIN)
    await get_store(request).write(
        partial(
            notifications.delete_channel, project_id=principal.project_id, channel_id=channel_id
        )
    )
    return Response(status_code=204)


@router.post("/channels/{channel_id}/test")
async def test_channel(request: Request, channel_id: Id) -> JSON:
    """Send a test notification now (admin scope): 200 when delivered, 502 with the reason."""
    principal = await authorised(request, Scope.ADMIN)
    store = get_store(request)

    def load() -> ChannelRow:
        with store.read() as conn:
            return notifications.get_channel(
                conn, project_id=principal.project_id, channel_id=channel_id
            )

    row = await run_in_threadpool(load)
    outcome = await send_test(store, row)
    if outcome.ok:
        return JSON({"delivered": True})
    return JSON({"error": outcome.error or "not delivered"}, status_code=502)


@router.get("/channels/{channel_id}/deliveries")
def list_deliveries(
    request: Request, channel_id: Id, limit: Limit = 50, before: Before = None
) -> JSON:
    """Every attempt to deliver to this channel, newest first (read scope)."""
    with reading(request) as (conn, principal):
        found = notifications.list_deliveries(
            conn,
            project_id=principal.project_id,
            channel_id=channel_id,
            before=before,
            limit=limit + 1,
        )
    return JSON(page([delivery_public(row) for row in found], limit))
