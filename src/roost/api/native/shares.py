"""Public shares: ``/api/v1/shares`` (admin scope) and the public ``/share/{token}/chart.svg``.

Every share endpoint needs the admin scope, reading the list included: a share's links give
anyone the charts without a key, and keep working after the key that made them is revoked,
so only those who manage keys may make, see or revoke them.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.requests import Request
from starlette.responses import Response

from roost.api.deps import get_settings, get_store, parse_json_model
from roost.api.errors import RoostRoute, error
from roost.api.native.common import MAX_ID, Id, authorised, native_router, reading
from roost.api.responses import JSON
from roost.domain.chart_svg import render_svg
from roost.domain.keys import Scope
from roost.domain.times import format_iso, now_ms
from roost.services import shares
from roost.services.shares import Share

router = native_router("shares")
# The image lives beside the web engineer's public pages (/share/{token}, …/embed), outside
# /api/v1, yet answers failures in Roost's error body like the API.
public_router = APIRouter(tags=["shares"], route_class=RoostRoute)

# Short enough that a revoked link stops showing soon in caches we do not control (GitHub's
# image proxy, mail clients); long enough that a busy README costs few renders.
SVG_CACHE = "public, max-age=60"
# The SVG holds no script and loads nothing, and must stay that way if opened on its own.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

ShareTarget = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class ShareCreate(BaseModel):
    """Exactly one of the two: a dashboard or a single stat."""

    model_config = ConfigDict(extra="forbid")

    dashboard_id: ShareTarget | None = None
    stat_id: ShareTarget | None = None


def base_url(request: Request) -> str:
    """``ROOST_PUBLIC_URL`` when set (behind a proxy the request's own host may be internal)."""
    return get_settings(request).public_url or str(request.base_url)


def share_public(share: Share, base: str) -> dict[str, Any]:
    return {
        "id": share.id,
        "dashboard_id": share.dashboard_id,
        "stat_id": share.stat_id,
        "created_at": format_iso(share.created_at),
        **shares.share_urls(base, share.token),
    }


@router.post("/shares", status_code=201)
async def create_share(request: Request) -> JSON:
    """Make a public link to a dashboard or a stat of this project (admin scope)."""
    principal = await authorised(request, Scope.ADMIN)
    store = get_store(request)
    body = await parse_json_model(request, ShareCreate, store.settings.max_body_bytes)
    share = await store.write(
        partial(
            shares.create_share,
            project_id=principal.project_id,
            dashboard_id=body.dashboard_id,
            stat_id=body.stat_id,
            now=now_ms(),
            # Drawn here, not in the job: a job the writer replays must make the same share.
            token=shares.new_token(),
        )
    )
    return JSON(share_public(share, base_url(request)), status_code=201)


@router.get("/shares")
def list_shares(request: Request) -> JSON:
    """Every share of the project with its links, newest first (admin scope)."""
    with reading(request, Scope.ADMIN) as (conn, principal):
        found = shares.list_shares(conn, project_id=principal.project_id)
    base = base_url(request)
    return JSON({"items": [share_public(share, base) for share in found]})


@router.delete("/shares/{share_id}", status_code=204)
async def delete_share(request: Request, share_id: Id) -> Response:
    """Revoke a share (admin scope): its page, embed and SVG are 404 from now on."""
    principal = await authorised(request, Scope.ADMIN)
    await get_store(request).write(
        partial(shares.delete_share, project_id=principal.project_id, share_id=share_id)
    )
    return Response(status_code=204)


@public_router.get("/share/{token}/chart.svg")
def share_svg(
    request: Request,
    token: str,
    range_: Annotated[
        str | None,
        Query(alias="range", max_length=16, description="How far back: 1h, 24h, 7d, 30d …"),
    ] = None,
) -> Response:
    """The shared stat or dashboard as an SVG image; no key needed, 404 once revoked."""
    with get_store(request).read() as conn:
        share = shares.resolve_share(conn, token)
        if share is None:
            gone = error(404, "share not found")
            gone.headers["Cache-Control"] = "no-store"  # never cache a failure
            return gone
        span = shares.parse_chart_range(range_)
        chart = shares.share_chart(conn, share, span_ms=span, now=now_ms())
    return Response(
        render_svg(chart).encode("utf-8"),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": SVG_CACHE,
            "Content-Security-Policy": SVG_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )
