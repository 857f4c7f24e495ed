"""Sign-in, sign-out and the project switcher."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import NotFound, Unauthorized
from roost.services import users as user_service
from roost.services.users import UserPrincipal
from roost.web import pages, session
from roost.web.pages import PageRoute, field, render
from roost.web.ratelimit import AttemptLimiter
from roost.web.session import WebSession

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Failed attempts allowed per e-mail address, and per client address, in the window.
PER_EMAIL = 10
PER_CLIENT = 50
WINDOW_S = 15 * 60


def limiters(request: Request) -> tuple[AttemptLimiter, AttemptLimiter]:
    """This app's limiters: per e-mail address, and per client address (which allows more
    failures, since several people may share one address)."""
    state = request.app.state
    found: tuple[AttemptLimiter, AttemptLimiter] | None = getattr(state, "web_limiters", None)
    if found is None:
        found = (
            AttemptLimiter(limit=PER_EMAIL, window_s=WINDOW_S),
            AttemptLimiter(limit=PER_CLIENT, window_s=WINDOW_S),
        )
        state.web_limiters = found
    return found


def _safe_next(target: str) -> str:
    # Only a path on this server: "//host" or "https://…" would make the form an open redirect.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(
    request: Request, state: WebSession, *, error: str = "", email: str = "", status: int = 200
) -> Response:
    response = render(
        request,
        "login.html",
        {
            "title": "Sign in · Roost",
            "error": error,
            "email": email,
            "next": _safe_next(request.query_params.get("next", "/")),
        },
        csrf=state.csrf,
        status=status,
    )
    pages.save_session(request, response, state)
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    state = pages.current_session(request) or WebSession.anonymous()
    return _login_page(request, state)


@router.post("/login")
async def login(request: Request) -> Response:
    state = pages.current_session(request)
    data = await pages.form(request, state)
    assert state is not None
    email = field(data, "email")
    password = data.get("password")
    password = password if isinstance(password, str) else ""
    client = request.client.host if request.client else "unknown"
    keys = (f"email:{email.lower()}", f"client:{client}")
    by_email, by_client = limiters(request)
    wait = max(by_email.retry_after(keys[0]), by_client.retry_after(keys[1]))
    if wait:
        response = _login_page(
            request,
            state,
            error=f"Too many failed attempts. Try again in {max(1, wait // 60)} minute(s).",
            email=email,
            status=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response

    secret = pages.secret_of(request)

    def check() -> tuple[UserPrincipal, str]:
        with pages.store_of(request).read() as conn:
            user = user_service.verify_password(conn, email=email, password=password)
            return user, user_service.issue_token(conn, email=user.email, secret=secret)

    try:
        user, token = await run_in_threadpool(check)
    except (Unauthorized, NotFound):
        by_email.fail(keys[0])
        by_client.fail(keys[1])
        return _login_page(
            request, state, error="Wrong e-mail address or password.", email=email, status=401
        )
    by_email.succeed(keys[0])
    signed_in = state.signed_in(token)
    if user.memberships:
        signed_in = signed_in.with_project(user.memberships[0].project_id)
    target = _safe_next(field(data, "next") or "/")
    response = pages.redirect(request, target)
    pages.save_session(request, response, signed_in)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await pages.form(request, pages.current_session(request))
    response = pages.redirect(request, "/login")
    session.clear(response)
    return response


@router.post("/project")
async def switch_project(request: Request) -> Response:
    viewer = await pages.viewer(request)
    data = await pages.form(request, viewer.session)
    try:
        wanted = int(field(data, "project_id"))
    except ValueError:
        raise NotFound("no such project") from None
    if wanted not in viewer.user.project_ids:
        raise NotFound("no such project")
    response = pages.redirect(request, "/")
    pages.save_session(request, response, viewer.session.with_project(wanted))
    return response
