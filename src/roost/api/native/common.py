"""What every ``/api/v1`` module shares: the router class, key checks, paging parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from roost.api.deps import bearer_token, get_store
from roost.api.errors import RoostRoute
from roost.domain.errors import InvalidInput
from roost.domain.keys import Scope
from roost.services import access
from roost.services.access import Principal

# Ids are signed 64-bit integers in both databases.
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Before = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="Cursor: only items with a smaller id (the next page)."),
]


def native_router(tag: str) -> APIRouter:
    """A router under ``/api/v1`` whose failures answer in Roost's error body."""
    return APIRouter(prefix="/api/v1", tags=[tag], route_class=RoostRoute)


@contextmanager
def reading(request: Request, scope: Scope = Scope.READ) -> Iterator[tuple[Connection, Principal]]:
    """One read transaction that authenticates the Bearer key, then serves the query."""
    with get_store(request).read() as conn:
        principal = access.authenticate(conn, bearer_token(request)).require(scope)
        yield conn, principal


async def authorised(request: Request, scope: Scope) -> Principal:
    """The principal of the Bearer key, checked in the threadpool (for async write routes)."""

    def check() -> Principal:
        with reading(request, scope) as (_, principal):
            return principal

    return await run_in_threadpool(check)


def choices(value: str | None, field: str, allowed: Iterable[str]) -> list[str] | None:
    """A comma-separated filter such as ``status=ok,failed``; None when absent or empty."""
    if not value:
        return None
    known = sorted(allowed)
    chosen = [part.strip() for part in value.split(",") if part.strip()]
    for part in chosen:
        if part not in known:
            raise InvalidInput(field, f"unknown value {part!r}; use {', '.join(known)}")
    return chosen or None


def page(items: list[dict[str, object]], limit: int) -> dict[str, object]:
    """A page of newest-first items and the cursor of the next one (None on the last page)."""
    has_more = len(items) > limit
    shown = items[:limit]
    next_before = shown[-1]["id"] if has_more and shown else None
    return {"items": shown, "next_before": next_before}
