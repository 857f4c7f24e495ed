"""Errors the core raises; each API surface maps them onto its own status codes and bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RoostError(Exception):
    """Base of every expected failure (never a 500)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross from the writer process to the server (``storage.writer_process``).
        # Pickle's default calls ``cls(*args)``, which breaks for subclasses whose
        # constructor takes other arguments than their message (InvalidInput's field).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[RoostError], args: tuple[Any, ...], state: dict[str, Any]) -> RoostError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InvalidInput(RoostError):
    """A request field broke a rule. ``field`` names it, dotted/indexed (``items[3].value``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class Unauthorized(RoostError):
    """No key, an unknown key, or a revoked key."""


class Forbidden(RoostError):
    """The key is valid but lacks the scope this call needs."""


class NotFound(RoostError):
    """Unknown id, or an id of another project (never reveal that it exists)."""


class KindConflict(InvalidInput):
    """A point of the other kind for a stat whose kind is already fixed."""

    def __init__(self, field: str, stat: str, kind: str) -> None:
        super().__init__(
            field, f"stat {stat!r} is a {kind}; a stat's type is fixed by its first point"
        )


def field_from_location(location: Sequence[str | int]) -> str:
    """pydantic's ``("body", "scopes", 0)`` → ``scopes[0]``."""
    parts = [part for part in location if part not in ("body", "query", "path")]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"
