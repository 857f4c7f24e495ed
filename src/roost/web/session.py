"""The browser session: one signed cookie holding the user's token and the CSRF secret.

The cookie is signed (itsdangerous, salted for this purpose) with the server's secret key, so
it cannot be forged or altered; it is not encrypted, and holds nothing the user may not see.
It carries a user token (``services.users``), whose version check means ``roost users
revoke-tokens`` also ends every browser session of that user.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "roost_session"
MAX_AGE_S = 14 * 24 * 3600
_SALT = "roost.web.session"


@dataclass(frozen=True, slots=True)
class WebSession:
    csrf: str
    token: str | None = None  # the signed-in user's token; None before sign-in
    project_id: int | None = None  # the project chosen in the switcher
    flash: str | None = None  # a one-time message shown by the next page

    @classmethod
    def anonymous(cls) -> WebSession:
        return cls(csrf=secrets.token_urlsafe(24))

    def signed_in(self, token: str) -> WebSession:
        # A new CSRF secret at sign-in: a token planted before sign-in is worth nothing after.
        return WebSession(csrf=secrets.token_urlsafe(24), token=token)

    def with_project(self, project_id: int) -> WebSession:
        return replace(self, project_id=project_id)

    def with_flash(self, message: str | None) -> WebSession:
        return replace(self, flash=message)


def _serializer(secret: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def load(request: Request, secret: bytes) -> WebSession | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(secret).loads(raw, max_age=MAX_AGE_S)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    project = data.get("p")
    return WebSession(
        csrf=data["c"],
        token=data.get("t") if isinstance(data.get("t"), str) else None,
        project_id=project if isinstance(project, int) else None,
        flash=data.get("f") if isinstance(data.get("f"), str) else None,
    )


def store(response: Response, session: WebSession, secret: bytes, *, secure: bool) -> None:
    data: dict[str, object] = {"c": session.csrf}
    if session.token:
        data["t"] = session.token
    if session.project_id is not None:
        data["p"] = session.project_id
    if session.flash:
        data["f"] = session.flash
    response.set_cookie(
        COOKIE,
        _serializer(secret).dumps(data),
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
