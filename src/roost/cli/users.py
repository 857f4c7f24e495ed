"""``roost users create | token | revoke-tokens | password | list``."""

from __future__ import annotations

from functools import partial

import typer
from rich.console import Console
from rich.table import Table

from roost.cli.common import err, fail, settings, store
from roost.domain.errors import RoostError
from roost.domain.times import format_iso, now_ms
from roost.domain.users import Role
from roost.services import access
from roost.services import users as user_service
from roost.storage.writer import WriteTx

app = typer.Typer(help="Manage people: sign-in, projects, API tokens.", no_args_is_help=True)

ROLE_HELP = "Role in the project: " + ", ".join(role.value for role in Role) + "."


@app.command("create")
def create(
    email: str = typer.Option(..., help="The user's e-mail address (their sign-in name)."),
    password: str | None = typer.Option(
        None, help="Sign-in password (8+ characters). Without it the user can use tokens only."
    ),
    project: str | None = typer.Option(None, help="Make the user a member of this project."),
    role: str = typer.Option(Role.MEMBER.value, help=ROLE_HELP),
) -> None:
    """Create a user, optionally as a member of a project (created when new)."""
    now = now_ms()

    def job(tx: WriteTx) -> None:
        created = user_service.create_user(tx, email=email, password=password, now=now)
        if project is not None:
            row = access.ensure_project(tx, name=access.validate_project_name(project), now=now)
            user_service.grant(tx, email=created.email, project_id=row.id, role=role, now=now)

    try:
        store().write_now(job)
    except RoostError as exc:
        raise fail(str(exc)) from None
    err.print(f"created user {email.strip().lower()}")


@app.command("grant")
def grant(
    email: str = typer.Option(..., help="The user's e-mail address."),
    project: str = typer.Option(..., help="Project name (created when new)."),
    role: str = typer.Option(Role.MEMBER.value, help=ROLE_HELP),
) -> None:
    """Give a user a role in a project (or change it)."""
    now = now_ms()

    def job(tx: WriteTx) -> None:
        row = access.ensure_project(tx, name=access.validate_project_name(project), now=now)
        user_service.grant(tx, email=email, project_id=row.id, role=role, now=now)

    try:
        store().write_now(job)
    except RoostError as exc:
        raise fail(str(exc)) from None
    err.print(f"{email} is now {role} of {project}")


@app.command("token")
def token(email: str = typer.Option(..., help="The user's e-mail address.")) -> None:
    """Print a signed API token for the user (only the token, on stdout)."""
    config = settings()
    opened = store(config)
    try:
        with opened.read() as conn:
            signed = user_service.issue_token(
                conn, email=email, secret=config.resolved_secret_key()
            )
    except RoostError as exc:
        raise fail(str(exc)) from None
    typer.echo(signed)


@app.command("revoke-tokens")
def revoke_tokens(email: str = typer.Option(..., help="The user's e-mail address.")) -> None:
    """Revoke every token issued to the user so far."""
    try:
        store().write_now(partial(user_service.revoke_tokens, email=email))
    except RoostError as exc:
        raise fail(str(exc)) from None
    err.print(f"revoked every token of {email}")


@app.command("password")
def password(
    email: str = typer.Option(..., help="The user's e-mail address."),
    new: str = typer.Option(..., "--password", prompt=True, hide_input=True, help="New password."),
) -> None:
    """Set a user's sign-in password."""
    try:
        store().write_now(partial(user_service.set_password, email=email, password=new))
    except RoostError as exc:
        raise fail(str(exc)) from None
    err.print(f"password set for {email}")


@app.command("list")
def list_users() -> None:
    """List users with their projects and roles (never passwords or tokens)."""
    with store().read() as conn:
        found = user_service.list_users(conn)
    table = Table("id", "email", "password", "projects", "created")
    for user, memberships in found:
        table.add_row(
            str(user.id),
            user.email,
            "yes" if user.password_hash else "no",
            ", ".join(f"{item.project} ({item.role})" for item in memberships),
            format_iso(user.created_at),
        )
    Console().print(table)
