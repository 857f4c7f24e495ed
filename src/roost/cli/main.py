"""``roost serve | keys create/list/revoke | db upgrade``."""

from __future__ import annotations

from functools import partial

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from roost.domain import keys as key_rules
from roost.domain.errors import RoostError
from roost.domain.times import format_iso, now_ms
from roost.services import access, demo
from roost.settings import Settings
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

# soft_wrap: printed commands (the curl hint) must stay on one line to be pasted.
err = Console(stderr=True, soft_wrap=True)


def _settings() -> Settings:
    """Settings from the environment; a bad value is one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ROOST_{str(error['loc'][0]).upper()}: {error['msg']}" for error in exc.errors()
        )
        raise _fail(f"invalid configuration: {problems}") from None


def _store() -> Store:
    store = Store(_settings())
    store.upgrade()
    return store


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


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
    store.read_engine.dispose()
    store.write_engine.dispose()
    from roost.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


@keys_app.command("create")
def keys_create(
    project: str = typer.Option(..., help="Project name (created when new)."),
    name: str = typer.Option("", help="A label for the key."),
    scopes: str = typer.Option("read,write", help="Comma-separated: read, write, admin."),
) -> None:
    """Create a key and print only the key on stdout."""
    try:
        project_name = access.validate_project_name(project)
        granted = key_rules.parse_scopes(scopes)
        label = access.validate_key_name(name)
    except RoostError as exc:
        raise _fail(str(exc)) from None
    now = now_ms()

    def job(tx):  # type: ignore[no-untyped-def]
        row = access.ensure_project(tx, name=project_name, now=now)
        return access.create_key(tx, project_id=row.id, name=label, scopes=granted, now=now)

    new = _store().write_now(job)
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
    table = Table("id", "name", "prefix", "scopes", "created", "revoked")
    for key in rows:
        table.add_row(
            str(key.id),
            key.name,
            key.prefix + "…",
            key.scopes,
            format_iso(key.created_at),
            format_iso(key.revoked_at) if key.revoked_at else "",
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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    store = Store(_settings())
    store.upgrade()
    err.print(f"database is up to date ({store.dialect})")


if __name__ == "__main__":
    app()
