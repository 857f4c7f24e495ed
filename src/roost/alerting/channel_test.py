"""A test notification sent now to one channel, and logged in its delivery log; shared by
``POST /api/v1/channels/{id}/test`` and ``roost channels test``."""

from __future__ import annotations

from functools import partial

import httpx

from roost.alerting import channels
from roost.alerting.channels import Outcome
from roost.domain.times import format_iso, now_ms
from roost.services import notifications
from roost.storage.channels import ChannelRow
from roost.storage.store import Store


async def send_test(store: Store, row: ChannelRow) -> Outcome:
    now = now_ms()
    payload = {
        "event": "test",
        "title": "Roost test notification",
        "message": f"The channel {row.name!r} works.",
        "channel_id": row.id,
        "time": format_iso(now),
    }
    async with httpx.AsyncClient(follow_redirects=False) as client:
        outcome = await channels.send(
            kind=row.kind,
            url=row.url,
            secret=row.secret,
            payload=payload,
            delivery=f"test-{now}",
            attempt=1,
            time_limit=store.settings.notify_timeout_seconds,
            client=client,
        )
    await store.write(
        partial(
            notifications.record_test,
            project_id=row.project_id,
            channel_id=row.id,
            ok=outcome.ok,
            error=outcome.error,
            now=now_ms(),
        )
    )
    return outcome
