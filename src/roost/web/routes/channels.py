"""Settings → channels: where alert notifications go. Owners create, test and delete them."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from roost.alerting import channels as channel_kinds
from roost.alerting.channel_test import send_test
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.services import notifications
from roost.storage.channels import ChannelRow
from roost.web import pages
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_ID = 2**63 - 1
MAX_NAME = 200
MAX_URL = 2000
LISTED = 200


def _channel_id(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound("channel not found")
    return int(raw)


async def _page(request: Request, *, secret: str | None = None, error: str = "") -> Response:
    viewer = await pages.viewer(request)
    project_id = viewer.project_id
    found = await pages.read(
        request,
        partial(notifications.list_channels, project_id=project_id, before=None, limit=LISTED),
    )
    context = {
        "title": "Channels · Roost",
        "nav": "settings",
        "section": "channels",
        "channels": found,
        "secret": secret,
        "error": error,
    }
    return render(
        request, "settings_channels.html", context, viewer=viewer, status=422 if error else 200
    )


@router.get("/settings/channels")
async def channels_page(request: Request) -> Response:
    return await _page(request)


@router.post("/settings/channels")
async def create_channel(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_owner()
    name, url = field(data, "name"), field(data, "url")
    if not 0 < len(name) <= MAX_NAME:
        return await _page(request, error=f"name: must be 1 to {MAX_NAME} characters")
    if not 0 < len(url) <= MAX_URL:
        return await _page(request, error=f"url: must be 1 to {MAX_URL} characters")
    try:
        # Apprise loads its plugins on first use: keep it off the event loop.
        target = await run_in_threadpool(channel_kinds.parse_url, url)
    except InvalidInput as exc:
        return await _page(request, error=str(exc))
    secret = channel_kinds.new_secret() if target.kind == channel_kinds.WEBHOOK else None
    await pages.store_of(request).write(
        partial(
            notifications.create_channel,
            project_id=viewer.project_id,
            name=name,
            kind=target.kind,
            url=target.url,
            masked_url=target.masked_url,
            secret=secret,
            now=now_ms(),
        )
    )
    # Rendered, not redirected: a webhook's signing secret is shown this once.
    response = await _page(request, secret=secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/channels/{channel_id}/test")
async def test_channel(request: Request, channel_id: str) -> Response:
    viewer = await pages.viewer(request)
    await pages.form(request, viewer.session)
    viewer.require_owner()
    wanted, project_id = _channel_id(channel_id), viewer.project_id
    row: ChannelRow = await pages.read(
        request,
        partial(notifications.get_channel, project_id=project_id, channel_id=wanted),
    )
    outcome = await send_test(pages.store_of(request), row)
    message = (
        f"Test sent to “{row.name}”."
        if outcome.ok
        else f"Test to “{row.name}” failed: {outcome.error or 'not delivered'}"
    )
    return pages.redirect(request, "/settings/channels", viewer=viewer, flash=message)


@router.post("/settings/channels/{channel_id}/delete")
async def delete_channel(request: Request, channel_id: str) -> Response:
    viewer = await pages.viewer(request)
    await pages.form(request, viewer.session)
    viewer.require_owner()
    await pages.store_of(request).write(
        partial(
            notifications.delete_channel,
            project_id=viewer.project_id,
            channel_id=_channel_id(channel_id),
        )
    )
    return pages.redirect(request, "/settings/channels", viewer=viewer, flash="Channel deleted.")
