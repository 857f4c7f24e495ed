"""Public shares: an unguessable link to one dashboard or one stat, readable without a key.

A share is a row with a random token. Revoking deletes the row, so ``resolve_share`` returns
None from the next request on and every URL built on the token (page, embed, SVG) is 404.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain.chart_svg import Chart, ChartPanel
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.stats import Kind
from roost.domain.times import (
    DAY,
    HOUR,
    MINUTE,
    align_range,
    auto_resolution,
    format_duration,
    parse_duration,
)
from roost.services import dashboards, stats
from roost.storage import dashboards as dashboard_store
from roost.storage import shares as share_store
from roost.storage.shares import ShareRow
from roost.storage.writer import WriteTx

# 24 random bytes: 192 bits, 32 URL-safe characters; nobody guesses or enumerates that.
TOKEN_BYTES = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# What a shared chart shows when the link names no range, and the ranges a link may ask for.
DEFAULT_RANGE_MS = DAY
MIN_RANGE_MS = HOUR
MAX_RANGE_MS = 365 * DAY
# An image is a few hundred pixels wide: more buckets than this would be finer than a pixel.
CHART_BUCKETS = 200


@dataclass(frozen=True, slots=True)
class Share:
    id: int
    project_id: int
    token: str
    dashboard_id: int | None
    stat_id: int | None
    created_at: int


def _share(row: ShareRow) -> Share:
    return Share(
        id=row.id,
        project_id=row.project_id,
        token=row.token,
        dashboard_id=row.dashboard_id,
        stat_id=row.stat_id,
        created_at=row.created_at,
    )


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def create_share(
    tx: WriteTx,
    *,
    project_id: int,
    dashboard_id: int | None = None,
    stat_id: int | None = None,
    now: int,
    token: str | None = None,
) -> Share:
    """Share exactly one of a dashboard or a stat of this project.

    ``token`` lets a caller draw the random token before submitting the job, so a job the
    writer replays makes the same share; without it one is drawn here.
    """
    if (dashboard_id is None) == (stat_id is None):
        raise InvalidInput("dashboard_id", "give exactly one of dashboard_id and stat_id")
    if dashboard_id is not None:
        dashboards.get_dashboard(tx.conn, project_id=project_id, dashboard_id=dashboard_id)
    if stat_id is not None:
        stats.get_stat(tx.conn, project_id=project_id, stat_id=stat_id)
    row = share_store.insert_share(
        tx.conn,
        project_id=project_id,
        token=token or new_token(),
        dashboard_id=dashboard_id,
        stat_id=stat_id,
        now=now,
    )
    return _share(row)


def list_shares(conn: Connection, *, project_id: int) -> list[Share]:
    """Every share of the project, newest first."""
    return [_share(row) for row in share_store.list_shares(conn, project_id=project_id)]


def delete_share(tx: WriteTx, *, project_id: int, share_id: int) -> None:
    """Revoke a share: its page, embed and SVG are 404 from the next request on."""
    if not share_store.delete_share(tx.conn, project_id=project_id, share_id=share_id):
        raise NotFound("share not found")


def resolve_share(conn: Connection, token: str) -> Share | None:
    """The live share of a token, or None (unknown, malformed or revoked)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    row = share_store.share_by_token(conn, token)
    return _share(row) if row else None


def share_urls(base_url: str, token: str) -> dict[str, str]:
    """The public page, the frameable embed and the SVG image of a share."""
    page = f"{base_url.rstrip('/')}/share/{token}"
    return {"url": page, "embed_url": f"{page}/embed", "svg_url": f"{page}/chart.svg"}


# -- what a share shows --


def parse_chart_range(value: str | None) -> int:
    """A link's ``range`` (``1h``, ``24h``, ``7d``, ``30d`` …) in ms; the default when absent."""
    if value in (None, ""):
        return DEFAULT_RANGE_MS
    try:
        span = parse_duration(value)
    except ValueError as exc:
        raise InvalidInput("range", str(exc)) from None
    if not MIN_RANGE_MS <= span <= MAX_RANGE_MS:
        raise InvalidInput("range", "must be between 1h and 365d")
    return span


def range_label(span_ms: int) -> str:
    """``24h`` and ``7d`` rather than ``1d`` and ``1w``: how people name chart ranges."""
    if span_ms % HOUR == 0 and span_ms <= 2 * DAY:
        return f"{span_ms // HOUR}h"
    if span_ms % DAY == 0:
        return f"{span_ms // DAY}d"
    return format_duration(span_ms)


def chart_query(*, span_ms: int, now: int) -> stats.TimeQuery:
    """The last ``span_ms`` at an automatic resolution of whole minutes or coarser.

    Never finer than a minute: every bucket is then read from the roll-ups, so a public link
    costs the same few rows however many raw points the stat holds.
    """
    resolution = max(MINUTE, auto_resolution(span_ms, CHART_BUCKETS))
    start, end = align_range(now - span_ms, now, resolution)
    return stats.TimeQuery(start, end, resolution)


def _stat_panel(
    conn: Connection, *, project_id: int, stat_id: int, title: str | None, query: stats.TimeQuery
) -> ChartPanel:
    try:
        data = stats.read_series(conn, project_id=project_id, stat_id=stat_id, query=query)
    except NotFound:
        return ChartPanel(
            title=title or f"stat {stat_id}",
            start=query.start,
            end=query.end,
            resolution_ms=query.resolution_ms,
            values=(),
            note="This stat no longer exists",
        )
    # A counter's empty bucket is a real 0, but a counter with no point at all is "no data".
    received = any(count for _, _, count, _, _ in data.buckets)
    is_counter = data.stat.kind == Kind.COUNTER.value
    return ChartPanel(
        title=title or data.stat.name,
        start=data.start,
        end=data.end,
        resolution_ms=data.resolution_ms,
        values=[(ts, value) for ts, value, *_ in data.buckets]
        if received or not is_counter
        else [],
    )


def share_chart(conn: Connection, share: Share, *, span_ms: int, now: int) -> Chart:
    """The chart of a share: its stat, or its dashboard's panels in order, over ``span_ms``."""
    query = chart_query(span_ms=span_ms, now=now)
    caption = f"last {range_label(span_ms)} · UTC"
    project_id = share.project_id
    if share.stat_id is not None:
        panel = _stat_panel(
            conn, project_id=project_id, stat_id=share.stat_id, title=None, query=query
        )
        return Chart(panels=[panel], caption=caption)
    assert share.dashboard_id is not None
    board = dashboard_store.get_dashboard(
        conn, project_id=project_id, dashboard_id=share.dashboard_id
    )
    if board is None:
        raise NotFound("share not found")
    panels = [
        _stat_panel(conn, project_id=project_id, stat_id=p.stat_id, title=p.title, query=query)
        for p in board.panels
    ]
    return Chart(panels=panels, heading=board.name, caption=caption)
