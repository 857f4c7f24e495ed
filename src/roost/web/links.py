"""Public links of shares: the base URL they are built on."""

from __future__ import annotations

from starlette.requests import Request

from roost.services import shares as share_service
from roost.web import pages


def base_url(request: Request) -> str:
    """``ROOST_PUBLIC_URL`` when set (a server behind a proxy), else this request's base."""
    configured = getattr(pages.settings_of(request), "public_url", None)
    return str(configured or request.base_url).rstrip("/")


def urls(request: Request, token: str) -> dict[str, str]:
    return share_service.share_urls(base_url(request), token)
