"""Baseline for the trace benchmarks: the smallest Starlette app with Roost's trace routes.

``POST /v1/traces`` reads the OTLP body and answers ``{}``; ``POST /session/{id}/event`` reads
the event and answers HoneyHive's ``{"event_id", "success"}``. No parsing, auth or storage, so
the gap between it and Roost is the cost of Roost's own work per request.

Served by ``bench/traces.py`` as ``python -m uvicorn bare_traces:app --app-dir bench``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_EMPTY = b"{}"
_EVENT = b'{"event_id":"00000000-0000-4000-8000-000000000000","success":true}'


async def otlp_traces(request: Request) -> Response:
    await request.body()
    return Response(_EMPTY, media_type="application/json")


async def session_event(request: Request) -> Response:
    await request.body()
    return Response(_EVENT, media_type="application/json")


app = Starlette(
    routes=[
        Route("/v1/traces", otlp_traces, methods=["POST"]),
        Route("/opentelemetry/v1/traces", otlp_traces, methods=["POST"]),
        Route("/session/{session_id}/event", session_event, methods=["POST"]),
    ]
)
