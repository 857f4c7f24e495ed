"""Dashboards: named, ordered lists of stat charts (panels) in one project.

A panels list given to ``update_dashboard`` replaces the old one, so adding, removing and
reordering are all one call. Panels may only show stats of the dashboard's own project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound
from roost.storage import dashboards as dashboard_store
from roost.storage.dashboards import DashboardRow
from roost.storage.writer import WriteTx

MAX_NAME_CHARS = 200
MAX_TITLE_CHARS = 200
# A dashboard is read in one request (and drawn in one SVG): keep it to what a screen shows.
MAX_PANELS = 50


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """A panel as asked for: which stat, and an optional title (None: the stat's name)."""

    stat_id: int
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Panel:
    stat_id: int
    title: str | None
    position: int  # 0, 1, 2 … in display order


@dataclass(frozen=True, slots=True)
class Dashboard:
    id: int
    project_id: int
    name: str
    panels: list[Panel]
    created_at: int
    updated_at: int


def _dashboard(row: DashboardRow) -> Dashboard:
    return Dashboard(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        panels=[Panel(p.stat_id, p.title, p.position) for p in row.panels],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name", "must be a non-empty string")
    name = name.strip()
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput("name", f"must be at most {MAX_NAME_CHARS} characters")
    return name


def clean_panels(
    conn: Connection, *, project_id: int, panels: Sequence[PanelSpec]
) -> list[tuple[int, str | None]]:
    """Validated (stat id, title) pairs; a stat this project does not have is NotFound."""
    if len(panels) > MAX_PANELS:
        raise InvalidInput("panels", f"at most {MAX_PANELS} panels per dashboard")
    cleaned: list[tuple[int, str | None]] = []
    for index, spec in enumerate(panels):
        if isinstance(spec.stat_id, bool) or not isinstance(spec.stat_id, int) or spec.stat_id < 1:
            raise InvalidInput(f"panels[{index}].stat_id", "must be a stat id")
        title = spec.title
        if title is not None:
            if not isinstance(title, str):
                raise InvalidInput(f"panels[{index}].title", "must be a string")
            title = title.strip() or None
            if title is not None and len(title) > MAX_TITLE_CHARS:
                raise InvalidInput(
                    f"panels[{index}].title", f"must be at most {MAX_TITLE_CHARS} characters"
                )
        cleaned.append((spec.stat_id, title))
    known = dashboard_store.existing_stat_ids(
        conn, project_id=project_id, stat_ids=sorted({stat_id for stat_id, _ in cleaned})
    )
    for index, (stat_id, _) in enumerate(cleaned):
        if stat_id not in known:
            # Another project's stat is "not found", exactly like an id that never existed.
            raise NotFound(f"panels[{index}].stat_id: stat {stat_id} not found")
    return cleaned


def create_dashboard(
    tx: WriteTx, *, project_id: int, name: str, panels: Sequence[PanelSpec], now: int
) -> Dashboard:
    name = clean_name(name)
    cleaned = clean_panels(tx.conn, project_id=project_id, panels=panels)
    dashboard_id = dashboard_store.insert_dashboard(
        tx.conn, project_id=project_id, name=name, now=now
    )
    dashboard_store.replace_panels(
        tx.conn, project_id=project_id, dashboard_id=dashboard_id, panels=cleaned
    )
    return get_dashboard(tx.conn, project_id=project_id, dashboard_id=dashboard_id)


def list_dashboards(conn: Connection, *, project_id: int) -> list[Dashboard]:
    """Every dashboard of the project, newest first."""
    return [_dashboard(row) for row in dashboard_store.list_dashboards(conn, project_id=project_id)]


def get_dashboard(conn: Connection, *, project_id: int, dashboard_id: int) -> Dashboard:
    row = dashboard_store.get_dashboard(conn, project_id=project_id, dashboard_id=dashboard_id)
    if row is None:
        raise NotFound("dashboard not found")
    return _dashboard(row)


def update_dashboard(
    tx: WriteTx,
    *,
    project_id: int,
    dashboard_id: int,
    name: str | None,
    panels: Sequence[PanelSpec] | None,
    now: int,
) -> Dashboard:
    """Rename and/or replace the panels; None leaves that part as it is."""
    # Everything is checked before the first write, so a refused edit changes nothing.
    get_dashboard(tx.conn, project_id=project_id, dashboard_id=dashboard_id)
    new_name = None if name is None else clean_name(name)
    cleaned = (
        None if panels is None else clean_panels(tx.conn, project_id=project_id, panels=panels)
    )
    if new_name is not None or cleaned is not None:
        dashboard_store.update_dashboard(
            tx.conn, project_id=project_id, dashboard_id=dashboard_id, name=new_name, now=now
        )
    if cleaned is not None:
        dashboard_store.replace_panels(
            tx.conn, project_id=project_id, dashboard_id=dashboard_id, panels=cleaned
        )
    return get_dashboard(tx.conn, project_id=project_id, dashboard_id=dashboard_id)


def delete_dashboard(tx: WriteTx, *, project_id: int, dashboard_id: int) -> None:
    """Delete the dashboard with its panels and its public shares (their links go 404)."""
    if not dashboard_store.delete_dashboard(
        tx.conn, project_id=project_id, dashboard_id=dashboard_id
    ):
        raise NotFound("dashboard not found")
