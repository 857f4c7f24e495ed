"""The one table of mounted products. Adding a product means adding a row here."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter
from starlette.routing import BaseRoute

from roost.api.compat.statflow import routes as statflow


@dataclass(frozen=True)
class Product:
    name: str
    router: APIRouter
    key_header: str
    error_shape: str
    # Lean Starlette routes for hot ingest paths, mounted next to the router.
    hot_routes: list[BaseRoute] = field(default_factory=list)


PRODUCTS: tuple[Product, ...] = (
    Product(
        name="statflow",
        router=statflow.router,
        key_header="Authorization: Bearer",
        error_shape='{"error": "...", "field": "..."}',
        hot_routes=list(statflow.HOT_ROUTES),
    ),
)
