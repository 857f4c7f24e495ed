"""The web app: server-rendered pages (Jinja2, htmx, uPlot) over the same services as the API.

``mount(app)`` adds the pages and ``/static`` to the FastAPI app; ``create_app`` calls it.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from roost.web import assets, pages
from roost.web.routes import (
    agents,
    alerts,
    auth,
    channels,
    dashboards,
    exceptions,
    home,
    imports,
    members,
    processes,
    sessions,
    settings,
    shares,
    stats,
)

__all__ = ["error_response", "mount", "wants_html"]

wants_html = pages.wants_html

# Asset URLs carry a content hash, so a browser may keep them for a year.
_IMMUTABLE = (b"cache-control", b"public, max-age=31536000, immutable")
# Static files are never framed or sniffed either.
_STATIC_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff")]


class _CachedStatic:
    def __init__(self, app: StaticFiles) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        versioned = b"v=" in scope.get("query_string", b"")

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [*_STATIC_HEADERS, _IMMUTABLE] if versioned else _STATIC_HEADERS
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cache)


def mount(app: FastAPI) -> None:
    for module in (
        auth,
        home,
        stats,
        dashboards,
        shares,
        settings,
        members,
        channels,
        alerts,
        imports,
        processes,
        exceptions,
        sessions,
        agents,
    ):
        app.include_router(module.router)
    static = StaticFiles(directory=assets.STATIC_DIR, check_dir=False)
    app.mount("/static", GZipMiddleware(_CachedStatic(static), minimum_size=500), name="static")


def error_response(request: Request, status: int, message: str) -> Response:
    """An HTML error page for a browser that reached an unknown path or method."""
    return pages.error_page(request, status, message)
