"""``GET /api/v1/projects``: the projects the caller may see.

The one endpoint that takes both kinds of credential: a user token (the last word of the
Authorization header, ActiveWorkflow's rule) sees the projects the user is a member of; a
project API key with the read scope sees its own project.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from roost.api.deps import get_settings, get_store
from roost.api.native.common import native_router
from roost.api.responses import JSON
from roost.domain import keys as key_rules
from roost.domain.keys import Scope
from roost.domain.users import token_from_header
from roost.services import access
from roost.services import users as user_service

router = native_router("projects")


@router.get("/projects")
def list_projects(request: Request) -> JSON:
    """Projects visible to the caller, with the caller's role (``key`` for an API key)."""
    presented = token_from_header(request.headers.get("authorization"))
    with get_store(request).read() as conn:
        if presented is not None and key_rules.KEY_PATTERN.match(presented):
            principal = access.authenticate(conn, presented).require(Scope.READ)
            project = access.get_project(conn, principal.project_id)
            items: list[dict[str, Any]] = (
                [{"id": project.id, "name": project.name, "role": "key"}] if project else []
            )
        else:
            user = user_service.authenticate_token(
                conn, token=presented, secret=get_settings(request).resolved_secret_key()
            )
            items = [
                {"id": item.project_id, "name": item.project, "role": item.role}
                for item in user.memberships
            ]
    return JSON({"items": items})
