"""Raw ASGI plumbing for the hot ingest paths.

A request to ``/v1/ingest`` costs less to handle durably than FastAPI's middleware stack costs
to pass through (measured: its per-request telemetry check alone was ~10% of a core), so
``LeanDispatcher`` sends a handful of (method, path) pairs straight to plain ASGI handlers
and everything else to the FastAPI app. A path may hold ``{name}`` segments (HoneyHive puts the
session id in its ingest paths); those are matched only after the exact lookup misses.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from roost.domain.errors import InvalidInput


class BodyTooLarge(Exception):
    """The request body is over the configured limit (413)."""


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LeanRequest:
    """The few things a hot handler reads: headers, the body, the app state."""

    __slots__ = ("receive", "scope")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive

    @property
    def state(self) -> Any:
        return self.scope["app"].state

    @property
    def path_params(self) -> dict[str, str]:
        """The ``{name}`` segments of a templated route's path."""
        params: dict[str, str] = self.scope.get("path_params", {})
        return params

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def bearer_token(self) -> str | None:
        header = self.header(b"authorization")
        if not header:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    async def body(self, limit: int) -> bytes:
        declared = self.header(b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise BodyTooLarge()
            except ValueError:
                raise InvalidInput("body", "Content-Length is not a number") from None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ConnectionAbortedError("client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class LeanResponse:
    __slots__ = ("body", "headers", "media_type", "status")

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        headers: dict[str, str] | None = None,
        media_type: bytes = b"application/json",
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers
        self.media_type = media_type

    @classmethod
    def json(
        cls, content: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> LeanResponse:
        return cls(orjson.dumps(content), status, headers)

    async def send(self, send: Send) -> None:
        headers = [
            (b"content-type", self.media_type),
            (b"content-length", str(len(self.body)).encode()),
        ]
        if self.headers:
            headers.extend((k.lower().encode(), v.encode()) for k, v in self.headers.items())
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


LeanHandler = Callable[[LeanRequest], Awaitable[LeanResponse]]


class LeanDispatcher:
    """Route exact (method, path) pairs to lean handlers; pass everything else to ``app``."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], LeanHandler]) -> None:
        self.app = app
        self.routes = routes
        self.allowed: dict[str, list[str]] = {}
        self.templates: list[tuple[str, re.Pattern[str], LeanHandler]] = []
        for (method, path), handler in routes.items():
            if "{" in path:
                self.templates.append((method, _path_pattern(path), handler))
            else:
                self.allowed.setdefault(path, []).append(method)
        # Expose the wrapped app's state so handlers and tests see one application.
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self.routes.get((scope["method"], scope["path"]))
            if handler is None and self.templates:
                handler = self._match_template(scope)
            if handler is not None:
                scope["app"] = self.app
                try:
                    response = await handler(LeanRequest(scope, receive))
                except ConnectionAbortedError:
                    return
                await response.send(send)
                return
            allowed = self.allowed.get(scope["path"])
            if allowed is not None:
                await LeanResponse.json(
                    {"error": "method not allowed"}, 405, {"Allow": ", ".join(allowed)}
                ).send(send)
                return
        await self.app(scope, receive, send)

    def _match_template(self, scope: Scope) -> LeanHandler | None:
        # A templated path with another method falls through: FastAPI may serve it (a GET
        # beside a lean PUT), or answer 404/405 itself.
        for method, pattern, handler in self.templates:
            if method == scope["method"]:
                match = pattern.fullmatch(scope["path"])
                if match is not None:
                    scope["path_params"] = match.groupdict()
                    return handler
        return None


def _path_pattern(path: str) -> re.Pattern[str]:
    """``/session/{session_id}/event`` → a pattern naming one path segment per parameter."""
    parts = re.split(r"\{(\w+)\}", path)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(regex)
