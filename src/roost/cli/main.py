"""``roost serve | keys create/list/revoke | users … | db upgrade | import stathat``."""

from __future__ import annotations

import asyncio
from functools import partial

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from roost.cli import alerts, common, users
from roost.domain import keys as key_rules
from roost.domain.errors import RoostError
from roost.domain.stathat import (
    DEFAULT_BASE_URL,
    parse_access_token,
    parse_aliases,
    parse_base_url,
)
from roost.domain.times import format_iso, now_ms
from roost.services import access, demo, stathat_import
from roost.storage.imports import ImportRow
from roost.storage.store import Store

app = typer.Typer(
    help="Roost: self-hosted telemetry for pipelines, jobs and AI agents.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
import_app = typer.Typer(help="Import history from other services.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(users.app, name="users")
app.add_typer(alerts.alerts_app, name="alerts")
app.add_typer(alerts.channels_app, name="channels")

_settings = common.settings
_store = common.store
_fail = common.fail
err = common.err


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo_data: bool = typer.Option(False, "--demo", help="Seed a demo project when empty."),
) -> None:
    """Run the server (migrations run first)."""
    settings = _settings()
    store = Store(settings)
    store.upgrade()
    err.print(f"Roost is serving on [bold]http://{host}:{port}[/bold] ({store.dialect})")
    if demo_data:
        secret = store.write_now(partial(demo.seed, now=now_ms()))
        if secret:
            demo.save_demo_key(settings.data_dir, secret)
        secret = secret or demo.load_demo_key(settings.data_dir)
        if secret:
            err.print(f"Demo project API key: [bold]{secret}[/bold]")
            err.print(
                f"Try: curl -H 'Authorization: Bearer {secret}' http://{host}:{port}/v1/stats"
            )
        store.write_now(partial(demo.ensure_demo_user, now=now_ms()))
        err.print(
            f"Web app: [bold]http://{host}:{port}/login[/bold] — sign in as "
            f"[bold]{demo.DEMO_EMAIL}[/bold] with password [bold]{demo.DEMO_PASSWORD}[/bold]"
        )
    store.read_engine.dispose()
    store.write_engine.dispose()
    from roost.api.protocol import CorkedHttpToolsProtocol
    from roost.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        http=CorkedHttpToolsProtocol,
        log_level="warning",
        access_log=False,
    )


@keys_app.command("create")
def keys_create(
    project: str = typer.Option(..., help="Project name (created when new)."),
    name: str = typer.Option("", help="A label for the key."),
    scopes: str = typer.Option("read,write", help="Comma-separated: read, write, admin."),
    alias: list[str] = typer.Option(
        [],
        "--alias",
        help="Another name the key answers to as a StatHat ezkey, e.g. the e-mail address "
        "old clients send (repeatable; needs the write scope).",
    ),
) -> None:
    """Create a key and print only the key on stdout."""
    try:
        project_name = access.validate_project_name(project)
        granted = key_rules.parse_scopes(scopes)
        label = access.validate_key_name(name)
        aliases = parse_aliases(alias, "--alias")
    except RoostError as exc:
        raise _fail(str(exc)) from None
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        row = access.ensure_project(tx, name=project_name, now=now)
        return access.create_key(
            tx, project_id=row.id, name=label, scopes=granted, now=now, aliases=aliases
        )

    try:
        new = _store().write_now(job)
    except RoostError as exc:
        raise _fail(str(exc)) from None
    typer.echo(new.secret)


@keys_app.command("list")
def keys_list(project: str = typer.Option(..., help="Project name.")) -> None:
    """List a project's keys (never the keys themselves)."""
    store = _store()
    with store.read() as conn:
        row = access.find_project(conn, project)
        if row is None:
            raise _fail(f"no project named {project!r}")
        rows = access.list_keys(conn, project_id=row.id)
        aliases = access.list_aliases(conn, project_id=row.id)
    table = Table("id", "name", "prefix", "scopes", "created", "revoked", "aliases")
    for key in rows:
        table.add_row(
            str(key.id),
            key.name,
            key.prefix + "…",
            key.scopes,
            format_iso(key.created_at),
            format_iso(key.revoked_at) if key.revoked_at else "",
            ", ".join(aliases.get(key.id, ())),
        )
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: int = typer.Argument(..., help="The key's id (see keys list).")) -> None:
    """Revoke a key: it stops working at once."""
    try:
        row = _store().write_now(partial(access.revoke_key_anywhere, key_id=key_id, now=now_ms()))
    except RoostError as exc:
        raise _fail(str(exc)) from None
    err.print(f"revoked key {row.id} ({row.prefix}…)")


@import_app.command("stathat")
def import_stathat(
    project: str = typer.Option(..., help="Project to import into (created when new)."),
    token: str = typer.Option(..., help="The StatHat access token of the export API."),
    base_url: str = typer.Option(
        DEFAULT_BASE_URL, help="Base URL of the StatHat-compatible export API (…/x/TOKEN/)."
    ),
) -> None:
    """Import every stat and its history, in the foreground, with a progress bar.

    Interrupted (Ctrl-C, a crash), the same command goes on where it stopped; run again after
    it finished, it imports again without counting anything twice.
    """
    try:
        project_name = access.validate_project_name(project)
        secret = parse_access_token(token, "--token")
        source = parse_base_url(base_url, "--base-url")
    except RoostError as exc:
        raise _fail(str(exc)) from None
    store = _store()
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        row = access.ensure_project(tx, name=project_name, now=now)
        return stathat_import.resume_or_create_cli_import(
            tx, project_id=row.id, access_token=secret, base_url=source, now=now
        )

    row = store.write_now(job)
    store.writer.start()
    try:
        final = asyncio.run(_import_with_progress(store, row.project_id, row.id))
    except KeyboardInterrupt:
        raise _fail("interrupted; run the same command again to go on") from None
    finally:
        store.close()
    if final is None:
        raise _fail("the import disappeared")
    for problem in final.errors:
        err.print(f"[yellow]note:[/yellow] {problem}")
    if final.state != "done":
        raise _fail(f"import {final.id} {final.state}")
    err.print(
        f"import {final.id} done: {final.stats_done} of {final.stats_total} stats, "
        f"{final.points_imported} points"
    )


async def _import_with_progress(store: Store, project_id: int, import_id: int) -> ImportRow | None:
    columns = (
        TextColumn("[bold]StatHat import[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("stats · {task.fields[points]} points"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("import", total=None, points=0)

        def show(tally: stathat_import.Tally) -> None:
            bar.update(
                task,
                total=tally.stats_total or None,
                completed=tally.stats_done,
                points=tally.points_imported,
            )

        return await stathat_import.run_import(
            store, project_id=project_id, import_id=import_id, progress=show
        )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    store = Store(_settings())
    store.upgrade()
    err.print(f"database is up to date ({store.dialect})")


if __name__ == "__main__":
    app()
