"""Settings → members: everyone sees who is in the project; owners add, remove and re-role."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import InvalidInput, NotFound
from roost.domain.times import now_ms
from roost.domain.users import Role
from roost.services import members as member_service
from roost.web import pages
from roost.web.pages import PageRoute, field, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_ID = 2**63 - 1
ROLES = [role.value for role in Role]


def _user_id(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound("member not found")
    return int(raw)


@router.get("/settings/members")
async def members_page(request: Request) -> Response:
    viewer = await pages.viewer(request)
    project_id = viewer.project_id
    members = await pages.read(request, partial(member_service.list_members, project_id=project_id))
    context = {
        "title": "Members · Roost",
        "nav": "settings",
        "section": "members",
        "members": members,
        "roles": ROLES,
    }
    return render(request, "settings_members.html", context, viewer=viewer)


@router.post("/settings/members")
async def add_member(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_owner()
    email = field(data, "email")
    try:
        await pages.store_of(request).write(
            partial(
                member_service.add_member,
                project_id=viewer.project_id,
                email=email,
                role=field(data, "role"),
                now=now_ms(),
            )
        )
    except InvalidInput as exc:
        return pages.redirect(
            request, "/settings/members", viewer=viewer, flash=f"Not added: {exc}"
        )
    return pages.redirect(request, "/settings/members", viewer=viewer, flash=f"{email} added.")


@router.post("/settings/members/{user_id}")
async def change_member(request: Request, user_id: str) -> Response:
    """``action=role`` with a ``role`` field, or ``action=remove``."""
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    viewer.require_owner()
    wanted = _user_id(user_id)
    remove = field(data, "action") == "remove"
    job = (
        partial(member_service.remove_member, project_id=viewer.project_id, user_id=wanted)
        if remove
        else partial(
            member_service.set_role,
            project_id=viewer.project_id,
            user_id=wanted,
            role=field(data, "role"),
        )
    )
    try:
        await pages.store_of(request).write(job)
    except InvalidInput as exc:
        return pages.redirect(
            request, "/settings/members", viewer=viewer, flash=f"Not changed: {exc}"
        )
    message = "Member removed." if remove else "Role changed."
    return pages.redirect(request, "/settings/members", viewer=viewer, flash=message)
