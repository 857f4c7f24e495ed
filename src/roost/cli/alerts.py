"""``roost alerts list`` and ``roost channels list | test``."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from roost.alerting.channel_test import send_test
from roost.cli.common import err, fail, store
from roost.domain.alerts import describe
from roost.domain.errors import RoostError
from roost.domain.times import format_iso
from roost.services import access, alerts, notifications

alerts_app = typer.Typer(help="Alerts and their states.", no_args_is_help=True)
channels_app = typer.Typer(help="Where alert notifications go.", no_args_is_help=True)

LIST_LIMIT = 1000


def _project_id(name: str) -> int:
    with store().read() as conn:
        found = access.find_project(conn, name)
    if found is None:
        raise fail(f"no project named {name!r}")
    return found.id


@alerts_app.command("list")
def list_alerts(project: str = typer.Option(..., help="Project name.")) -> None:
    """Every alert of a project with its state, newest first."""
    project_id = _project_id(project)
    with store().read() as conn:
        rows = alerts.list_alerts(
            conn, project_id=project_id, before=None, limit=LIST_LIMIT, states=None
        )
    table = Table("id", "name", "kind", "condition", "state", "last value", "evaluated")
    for row in rows:
        table.add_row(
            str(row.id),
            row.name,
            row.kind,
            describe(row.kind, row.definition),
            row.state if row.enabled else f"{row.state} (disabled)",
            "" if row.last_value is None else f"{row.last_value:g}",
            "" if row.last_evaluated_at is None else format_iso(row.last_evaluated_at),
        )
    Console(soft_wrap=True).print(table)


@channels_app.command("list")
def list_channels(project: str = typer.Option(..., help="Project name.")) -> None:
    """The channels of a project (URLs with their credentials masked)."""
    project_id = _project_id(project)
    with store().read() as conn:
        rows = notifications.list_channels(
            conn, project_id=project_id, before=None, limit=LIST_LIMIT
        )
    table = Table("id", "name", "kind", "url")
    for row in rows:
        table.add_row(str(row.id), row.name, row.kind, row.masked_url)
    Console(soft_wrap=True).print(table)


@channels_app.command("test")
def test_channel(channel_id: int = typer.Argument(..., help="The channel's id.")) -> None:
    """Send a test notification now; exits 1 with the reason when it is not delivered."""
    opened = store()

    async def run() -> tuple[bool, str | None]:
        opened.start()
        try:
            with opened.read() as conn:
                row = notifications.find_channel(conn, channel_id)
            outcome = await send_test(opened, row)
            return outcome.ok, outcome.error
        finally:
            await asyncio.to_thread(opened.close)

    try:
        ok, error = asyncio.run(run())
    except RoostError as exc:
        raise fail(str(exc)) from None
    if not ok:
        raise fail(f"not delivered: {error}")
    err.print(f"delivered to channel {channel_id}")
