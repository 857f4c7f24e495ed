"""Project settings: API keys (owners create and revoke them; a new key is shown once)."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from roost.domain import keys as key_rules
from roost.domain.errors import InvalidInput, NotFound
from roost.domain.keys import Scope
from roost.domain.times import now_ms
from roost.services import access
from roost.services.access import NewKey
from roost.web import pages
from roost.web.pages import PageRoute, Viewer, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_ID = 2**63 - 1
SCOPES = [scope.value for scope in Scope]


@router.get("/settings")
async def settings_home(request: Request) -> Response:
    await pages.viewer(request)
    return RedirectResponse("/settings/keys", status_code=303)


async def _keys_page(
    request: Request, viewer: Viewer, *, created: NewKey | None = None, error: str = ""
) -> Response:
    project_id = viewer.project_id
    keys = await pages.read(request, partial(access.list_keys, project_id=project_id))
    context: dict[str, Any] = {
        "title": "API keys · Roost",
        "nav": "settings",
        "section": "keys",
        "keys": [key for key in keys if key.revoked_at is None],
        "revoked": [key for key in keys if key.revoked_at is not None],
        "created": created,
        "error": error,
        "scopes": SCOPES,
    }
    return render(
        request, "settings_keys.html", context, viewer=viewer, status=422 if error else 200
    )


@router.get("/settings/keys")
async def keys_page(request: Request) -> Response:
    return await _keys_page(request, await pages.viewer(request))


@router.post("/settings/keys")
async def create_key(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_owner()
    try:
        name = access.validate_key_name(field(data, "name"))
        scopes = key_rules.parse_scopes([str(item) for item in data.getlist("scopes")])
    except InvalidInput as exc:
        return await _keys_page(request, viewer, error=str(exc))
    created: NewKey = await pages.store_of(request).write(
        partial(
            access.create_key, project_id=viewer.project_id, name=name, scopes=scopes, now=now_ms()
        )
    )
    # Rendered, not redirected: the key is shown this once and never stored.
    response = await _keys_page(request, viewer, created=created)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    viewer = await pages.viewer(request)
    await pages.form(request, viewer.session)
    viewer.require_owner()
    if not key_id.isdigit() or not 0 < int(key_id) <= MAX_ID:
        raise NotFound("key not found")
    await pages.store_of(request).write(
        partial(access.revoke_key, project_id=viewer.project_id, key_id=int(key_id), now=now_ms())
    )
    return pages.redirect(request, "/settings/keys", viewer=viewer, flash="Key revoked.")
