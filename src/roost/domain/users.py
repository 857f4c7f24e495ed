"""People: e-mail addresses, roles in a project, and the signed tokens the API accepts.

A token is an HS256 JWT like ActiveWorkflow's (``{"user_id": …}``, no expiry) with one more
claim, ``ver``: the user's token version. Bumping the version revokes every token issued so
far, which a token without expiry needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import jwt

from roost.domain.errors import InvalidInput, Unauthorized

MAX_EMAIL = 254
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_ALGORITHM = "HS256"
# Deliberately loose: one "@", something on both sides, a dot in the domain, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Role(StrEnum):
    OWNER = "owner"
    MEMBER = "member"
    VIEWER = "viewer"


def normalise_email(email: object) -> str:
    if not isinstance(email, str):
        raise InvalidInput("email", "must be a string")
    cleaned = email.strip().lower()
    if len(cleaned) > MAX_EMAIL or not _EMAIL.fullmatch(cleaned):
        raise InvalidInput("email", "must be an e-mail address")
    return cleaned


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    version: int


def mint_token(claims: TokenClaims, secret: bytes) -> str:
    payload = {"user_id": claims.user_id, "ver": claims.version}
    return jwt.encode(payload, secret, algorithm=TOKEN_ALGORITHM)


def read_token(token: str, secret: bytes) -> TokenClaims:
    """The claims of a token this server signed; anything else is Unauthorized."""
    try:
        payload = jwt.decode(token, secret, algorithms=[TOKEN_ALGORITHM])
    except jwt.PyJWTError:
        raise Unauthorized("invalid token") from None
    user_id, version = payload.get("user_id"), payload.get("ver")
    if type(user_id) is not int or type(version) is not int:
        raise Unauthorized("invalid token")
    return TokenClaims(user_id, version)


def token_from_header(header: str | None) -> str | None:
    """ActiveWorkflow's rule: the last whitespace-separated word of Authorization, so both
    ``Bearer <token>`` and a bare ``<token>`` work."""
    if not header:
        return None
    words = header.split()
    return words[-1] if words else None
