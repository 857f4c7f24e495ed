"""What every CLI command module shares: settings from the environment, the store, errors."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console

from roost.settings import Settings
from roost.storage.store import Store

# soft_wrap: printed commands (the curl hint) must stay on one line to be pasted.
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    """Settings from the environment; a bad value is one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ROOST_{str(error['loc'][0]).upper()}: {error['msg']}"
            if error["loc"]
            else error["msg"]
            for error in exc.errors()
        )
        raise fail(f"invalid configuration: {problems}") from None


def store(config: Settings | None = None) -> Store:
    opened = Store(config or settings())
    opened.upgrade()
    return opened


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)
