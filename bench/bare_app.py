"""Baseline for the ingest benchmarks: the smallest Starlette app with Roost's ingest routes.

It reads the request body and answers 201 with a tiny JSON body, doing no parsing, auth or
storage, so the gap between it and Roost is the cost of Roost's own work per request.

Served by ``bench/run.py`` as ``python -m uvicorn bare_app:app --app-dir bench``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_BODY = b'{"accepted":1}'


async def ingest(request: Request) -> Response:
    await request.body()
    return Response(_BODY, status_code=201, media_type="application/json")


# The same handler on every ingest path the benchmark loads (StatFlow's and HawkFlow's).
INGEST_PATHS = ("/v1/ingest", "/v1/metrics", "/v1/start", "/v1/end")

app = Starlette(routes=[Route(path, ingest, methods=["POST"]) for path in INGEST_PATHS])
