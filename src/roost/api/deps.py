"""Shared request plumbing: the store, the presented key, bounded body reading."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from roost.api.lean import LeanRequest
from roost.domain.errors import InvalidInput, field_from_location
from roost.settings import Settings
from roost.storage.store import Store


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme case-insensitive), or None."""
    return LeanRequest(request.scope, request.receive).bearer_token()


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (before buffering it) anything over ``limit`` bytes."""
    return await LeanRequest(request.scope, request.receive).body(limit)


ModelT = TypeVar("ModelT", bound=BaseModel)


async def parse_json_model(request: Request, model: type[ModelT], limit: int) -> ModelT:
    """Parse the body as JSON whatever its Content-Type, then validate it with ``model``.

    Clients (curl's default, HawkFlow's JS client) send JSON as form or text/plain, so the
    Content-Type is not trusted to say what the body is.
    """
    try:
        document = orjson.loads(await read_body(request, limit))
    except orjson.JSONDecodeError:
        raise InvalidInput("body", "must be valid JSON") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = field_from_location(first.get("loc", ()))
        raise InvalidInput(field, first.get("msg", "is invalid")) from None
