"""SQL for dashboards and their ordered panels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from roost.storage import dialects
from roost.storage.schema import dashboard_panels, dashboards, series, shares


@dataclass(frozen=True, slots=True)
class PanelRow:
    stat_id: int
    title: str | None
    position: int


@dataclass(frozen=True, slots=True)
class DashboardRow:
    id: int
    project_id: int
    name: str
    panels: tuple[PanelRow, ...]
    created_at: int
    updated_at: int


def existing_stat_ids(conn: Connection, *, project_id: int, stat_ids: Sequence[int]) -> set[int]:
    """Which of ``stat_ids`` are stats of this project (another project's are absent)."""
    if not stat_ids:
        return set()
    rows = conn.execute(
        select(series.c.id).where(series.c.project_id == project_id, series.c.id.in_(stat_ids))
    )
    return {int(row[0]) for row in rows}


def insert_dashboard(conn: Connection, *, project_id: int, name: str, now: int) -> int:
    dashboard_id = dialects.next_id(conn, "dashboards")
    conn.execute(
        insert(dashboards).values(
            project_id=project_id, id=dashboard_id, name=name, created_at=now, updated_at=now
        )
    )
    return dashboard_id


def replace_panels(
    conn: Connection,
    *,
    project_id: int,
    dashboard_id: int,
    panels: Sequence[tuple[int, str | None]],
) -> None:
    """Make ``panels`` (stat id, title) the dashboard's panels, in this order."""
    conn.execute(
        delete(dashboard_panels).where(
            dashboard_panels.c.project_id == project_id,
            dashboard_panels.c.dashboard_id == dashboard_id,
        )
    )
    if panels:
        conn.execute(
            insert(dashboard_panels),
            [
                {
                    "project_id": project_id,
                    "dashboard_id": dashboard_id,
                    "position": position,
                    "stat_id": stat_id,
                    "title": title,
                }
                for position, (stat_id, title) in enumerate(panels)
            ],
        )


def update_dashboard(
    conn: Connection, *, project_id: int, dashboard_id: int, name: str | None, now: int
) -> bool:
    """Rename (when ``name`` is given) and touch ``updated_at``; False when there is none."""
    values: dict[str, object] = {"updated_at": now}
    if name is not None:
        values["name"] = name
    result = conn.execute(
        update(dashboards)
        .where(dashboards.c.project_id == project_id, dashboards.c.id == dashboard_id)
        .values(values)
    )
    return result.rowcount > 0


def delete_dashboard(conn: Connection, *, project_id: int, dashboard_id: int) -> bool:
    """Delete the dashboard, its panels and its public shares."""
    result = conn.execute(
        delete(dashboards).where(
            dashboards.c.project_id == project_id, dashboards.c.id == dashboard_id
        )
    )
    if result.rowcount == 0:
        return False
    for table in (dashboard_panels, shares):
        conn.execute(
            delete(table).where(
                table.c.project_id == project_id, table.c.dashboard_id == dashboard_id
            )
        )
    return True


def get_dashboard(conn: Connection, *, project_id: int, dashboard_id: int) -> DashboardRow | None:
    found = list_dashboards(conn, project_id=project_id, dashboard_id=dashboard_id)
    return found[0] if found else None


def list_dashboards(
    conn: Connection, *, project_id: int, dashboard_id: int | None = None
) -> list[DashboardRow]:
    """The project's dashboards (or the one asked for), newest first, with their panels."""
    query = select(dashboards).where(dashboards.c.project_id == project_id)
    panel_query = select(dashboard_panels).where(dashboard_panels.c.project_id == project_id)
    if dashboard_id is not None:
        query = query.where(dashboards.c.id == dashboard_id)
        panel_query = panel_query.where(dashboard_panels.c.dashboard_id == dashboard_id)
    heads = conn.execute(query.order_by(dashboards.c.id.desc())).mappings().all()
    if not heads:
        return []
    # Two queries whatever the number of dashboards, rather than one per dashboard.
    panels: dict[int, list[PanelRow]] = {}
    for row in conn.execute(
        panel_query.order_by(dashboard_panels.c.dashboard_id, dashboard_panels.c.position)
    ).mappings():
        panels.setdefault(row["dashboard_id"], []).append(
            PanelRow(stat_id=row["stat_id"], title=row["title"], position=row["position"])
        )
    return [
        DashboardRow(
            id=head["id"],
            project_id=head["project_id"],
            name=head["name"],
            panels=tuple(panels.get(head["id"], ())),
            created_at=head["created_at"],
            updated_at=head["updated_at"],
        )
        for head in heads
    ]
