"""What every page handler shares: who is signed in, CSRF checks, rendering, redirects.

Handlers raise ``SignInRequired``, ``CsrfRefused`` or the domain errors (``NotFound``,
``Forbidden``); ``PageRoute`` turns them into a redirect to the sign-in form or an HTML error
page, and adds the security headers to every response.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi.routing import APIRoute
from jinja2 import Environment
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from roost.domain.errors import Forbidden, NotFound, Unauthorized
from roost.domain.users import Role
from roost.services import users as user_service
from roost.services.users import UserPrincipal
from roost.settings import Settings
from roost.storage.store import Store
from roost.storage.users import MembershipRow
from roost.web import security, session, templating
from roost.web.session import WebSession

T = TypeVar("T")
_templates: Environment | None = None


class SignInRequired(Exception):
    """No valid session: browsers go to the sign-in form."""


class CsrfRefused(Exception):
    """A form came without this session's CSRF token."""


def templates() -> Environment:
    global _templates
    if _templates is None:
        _templates = templating.build()
    return _templates


def store_of(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def settings_of(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def secret_of(request: Request) -> bytes:
    return settings_of(request).resolved_secret_key()


async def read(request: Request, work: Callable[[Connection], T]) -> T:
    """Run ``work`` on a read connection in the threadpool (reads are blocking calls)."""

    def run() -> T:
        with store_of(request).read() as conn:
            return work(conn)

    return await run_in_threadpool(run)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user, their session, and the project chosen in the switcher."""

    user: UserPrincipal
    session: WebSession
    membership: MembershipRow | None

    @property
    def project_id(self) -> int:
        if self.membership is None:
            raise NotFound("no project")
        return self.membership.project_id

    @property
    def role(self) -> str:
        return self.membership.role if self.membership else Role.VIEWER.value

    @property
    def can_edit(self) -> bool:
        return self.role in (Role.OWNER.value, Role.MEMBER.value)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER.value

    def require_edit(self) -> None:
        if not self.can_edit:
            raise Forbidden("viewers cannot change this project")

    def require_owner(self) -> None:
        if not self.is_owner:
            raise Forbidden("only the project's owners can do this")


def current_session(request: Request) -> WebSession | None:
    return session.load(request, secret_of(request))


async def viewer(request: Request) -> Viewer:
    """The signed-in viewer, or SignInRequired."""
    found = current_session(request)
    if found is None or found.token is None:
        raise SignInRequired()
    token, secret = found.token, secret_of(request)
    try:
        user = await read(
            request,
            lambda conn: user_service.authenticate_token(conn, token=token, secret=secret),
        )
    except Unauthorized:
        raise SignInRequired() from None
    memberships = user.memberships
    chosen = next((m for m in memberships if m.project_id == found.project_id), None)
    if chosen is None and memberships:
        chosen = memberships[0]
    return Viewer(user, found, chosen)


async def form(request: Request, csrf_of: WebSession | None) -> FormData:
    """The posted form, once its CSRF token matches the session's (else CsrfRefused)."""
    data = await request.form()
    sent = data.get("csrf") or request.headers.get("x-csrf-token") or ""
    if csrf_of is None or not isinstance(sent, str):
        raise CsrfRefused()
    if not hmac.compare_digest(sent.encode(), csrf_of.csrf.encode()):
        raise CsrfRefused()
    return data


def field(data: FormData, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def save_session(request: Request, response: Response, value: WebSession) -> None:
    session.store(response, value, secret_of(request), secure=is_secure(request))


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    framable: bool = False,
    csrf: str | None = None,
) -> HTMLResponse:
    values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "csrf": csrf or (viewer.session.csrf if viewer else ""),
        "flash": viewer.session.flash if viewer else None,
        "nav": "",
        "title": "Roost",
    }
    values.update(context or {})
    body = templates().get_template(name).render(values)
    response = HTMLResponse(body, status_code=status)
    security.apply(response.headers, framable=framable)
    if viewer is not None and viewer.session.flash:
        save_session(request, response, viewer.session.with_flash(None))  # shown once
    return response


def redirect(
    request: Request, to: str, *, viewer: Viewer | None = None, flash: str | None = None
) -> RedirectResponse:
    """303 See Other after a POST; with ``flash`` the next page shows the message once."""
    response = RedirectResponse(to, status_code=303)
    if viewer is not None and flash:
        save_session(request, response, viewer.session.with_flash(flash))
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {403: "Not allowed", 404: "Not found", 429: "Too many attempts"}
    return render(
        request,
        "error.html",
        {
            "status": status,
            "heading": titles.get(status, "Something went wrong"),
            "message": message,
        },
        status=status,
    )


def wants_html(request: Request) -> bool:
    """A browser navigating (Accept: text/html), as opposed to an API client."""
    return "text/html" in request.headers.get("accept", "")


class PageRoute(APIRoute):
    """A route whose failures become pages: sign-in redirect, 403, 404 — never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                if request.method == "GET" and not request.url.path.endswith((".json", "/data")):
                    target = quote(
                        request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    )
                    response = RedirectResponse(f"/login?next={target}", status_code=303)
                else:
                    response = JSONResponse({"error": "sign in first"}, status_code=401)
            except CsrfRefused:
                response = error_page(
                    request,
                    403,
                    "This form has expired or did not come from Roost. "
                    "Go back, reload the page and try again.",
                )
            except Forbidden as exc:
                response = error_page(request, 403, str(exc))
            except NotFound:
                response = error_page(request, 404, "There is no such page in your projects.")
            security.apply(response.headers)
            return response

        return handle


def back_to(target: str, default: str = "/") -> str:
    """A form's ``back`` field, if it is a path on this server (never another host)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
