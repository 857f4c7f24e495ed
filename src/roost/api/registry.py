"""The one table of mounted products. Adding a product means adding a row here."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter

from roost.api.compat.activeworkflow import routes as activeworkflow
from roost.api.compat.hawkflow import routes as hawkflow
from roost.api.compat.honeyhive import routes as honeyhive
from roost.api.compat.otlp import routes as otlp
from roost.api.compat.statflow import routes as statflow
from roost.api.compat.stathat import routes as stathat
from roost.api.lean import LeanHandler
from roost.api.native import alerts as native_alerts
from roost.api.native import channels as native_channels
from roost.api.native import dashboards as native_dashboards
from roost.api.native import exceptions as native_exceptions
from roost.api.native import processes as native_processes
from roost.api.native import projects as native_projects
from roost.api.native import shares as native_shares
from roost.api.native import traces as native_traces


@dataclass(frozen=True)
class Product:
    name: str
    router: APIRouter
    key_header: str
    error_shape: str
    # Hot ingest paths served as raw ASGI, in front of FastAPI (see api/lean.py).
    lean_routes: dict[tuple[str, str], LeanHandler] = field(default_factory=dict)


PRODUCTS: tuple[Product, ...] = (
    Product(
        name="statflow",
        router=statflow.router,
        key_header="Authorization: Bearer",
        error_shape='{"error": "...", "field": "..."}',
        lean_routes=dict(statflow.HOT_ROUTES),
    ),
    Product(
        name="hawkflow",
        router=hawkflow.router,
        key_header="x-hawkflow-api-key (or hawkflow-api-key, or Authorization: Bearer)",
        error_shape='{"status": 422, "error": "<field>: <reason>"}',
        lean_routes=dict(hawkflow.HOT_ROUTES),
    ),
    Product(
        name="stathat",
        router=stathat.router,
        key_header="ezkey / ukey fields; export: the key in /x/{access_token}/…",
        error_shape='{"status": 400, "msg": "..."} with HTTP 200; export: {"msg": "..."}',
        lean_routes=dict(stathat.HOT_ROUTES),
    ),
    Product(
        name="honeyhive",
        router=honeyhive.router,
        key_header="Authorization: Bearer",
        error_shape='{"message": "...", "errorCode": "VALIDATION_ERROR"}',
        lean_routes=dict(honeyhive.HOT_ROUTES),
    ),
    Product(
        name="otlp",
        router=otlp.router,
        key_header="Authorization: Bearer",
        error_shape='google.rpc.Status: {"code": 3, "message": "..."} or its protobuf',
        lean_routes=dict(otlp.HOT_ROUTES),
    ),
    Product(
        name="activeworkflow",
        router=activeworkflow.router,
        key_header="Authorization: last word (user token, or a project API key)",
        error_shape='{"error": "401 Unauthorized"} / {"error": "404 Record not found"}',
    ),
)

# Roost's own API (``/api/v1``): one router per kind of record, all in Roost's error body.
NATIVE_ROUTERS: tuple[APIRouter, ...] = (
    native_projects.router,
    native_processes.router,
    native_exceptions.router,
    native_traces.router,
    native_channels.router,
    native_alerts.router,
    native_dashboards.router,
    native_shares.router,
    native_shares.public_router,  # /share/{token}/chart.svg, outside /api/v1
)
