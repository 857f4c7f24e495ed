"""Users: create them, give them projects, sign their tokens, and recognise them again.

Passwords are hashed with argon2id (``argon2-cffi``). A user sees exactly the projects they
are a member of; every surface that accepts user tokens asks ``authenticate_token`` and then
filters by the principal's ``project_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound, Unauthorized
from roost.domain.users import (
    Role,
    TokenClaims,
    check_password,
    mint_token,
    normalise_email,
    read_token,
)
from roost.storage import users as user_store
from roost.storage.users import MembershipRow, UserRow
from roost.storage.writer import WriteTx

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class UserPrincipal:
    user_id: int
    email: str
    memberships: tuple[MembershipRow, ...]

    @property
    def project_ids(self) -> frozenset[int]:
        return frozenset(item.project_id for item in self.memberships)


def create_user(tx: WriteTx, *, email: str, password: str | None, now: int) -> UserRow:
    """A new user; an e-mail address already taken is refused (field ``email``)."""
    address = normalise_email(email)
    if user_store.find_user_by_email(tx.conn, address) is not None:
        raise InvalidInput("email", "a user with this e-mail address exists")
    hashed = _hasher.hash(check_password(password)) if password is not None else None
    user_store.insert_user(tx.conn, email=address, password_hash=hashed, now=now)
    created = user_store.find_user_by_email(tx.conn, address)
    assert created is not None
    return created


def find_user(conn: Connection, email: str) -> UserRow:
    found = user_store.find_user_by_email(conn, normalise_email(email))
    if found is None:
        raise NotFound("no user with this e-mail address")
    return found


def set_password(tx: WriteTx, *, email: str, password: str) -> None:
    user = find_user(tx.conn, email)
    user_store.set_password_hash(
        tx.conn, user_id=user.id, password_hash=_hasher.hash(check_password(password))
    )


def grant(tx: WriteTx, *, email: str, project_id: int, role: str, now: int) -> None:
    """Make the user a member of the project with ``role`` (or change their role)."""
    if role not in {choice.value for choice in Role}:
        raise InvalidInput("role", "must be one of " + ", ".join(choice.value for choice in Role))
    user = find_user(tx.conn, email)
    user_store.put_membership(tx.conn, project_id=project_id, user_id=user.id, role=role, now=now)


def issue_token(conn: Connection, *, email: str, secret: bytes) -> str:
    user = find_user(conn, email)
    return mint_token(TokenClaims(user.id, user.token_version), secret)


def revoke_tokens(tx: WriteTx, *, email: str) -> None:
    """Every token issued to the user so far stops working."""
    user = find_user(tx.conn, email)
    user_store.bump_token_version(tx.conn, user_id=user.id)


def verify_password(conn: Connection, *, email: str, password: str) -> UserPrincipal:
    """The user, if the password is theirs; Unauthorized otherwise (same answer either way)."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        raise Unauthorized("wrong e-mail address or password") from None
    user = user_store.find_user_by_email(conn, address)
    if user is None or user.password_hash is None:
        # Hash anyway, so the answer takes as long for an unknown address.
        _hasher.hash(password)
        raise Unauthorized("wrong e-mail address or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong e-mail address or password") from None
    return _principal(conn, user)


def authenticate_token(conn: Connection, *, token: str | None, secret: bytes) -> UserPrincipal:
    """The user a token was issued to, while its version is current."""
    if not token:
        raise Unauthorized("missing token")
    claims = read_token(token, secret)
    user = user_store.get_user(conn, claims.user_id)
    if user is None or user.token_version != claims.version:
        raise Unauthorized("invalid token")
    return _principal(conn, user)


def _principal(conn: Connection, user: UserRow) -> UserPrincipal:
    rows = user_store.memberships_of(conn, user_id=user.id)
    return UserPrincipal(user.id, user.email, tuple(rows))


def list_users(conn: Connection) -> list[tuple[UserRow, list[MembershipRow]]]:
    return [
        (user, user_store.memberships_of(conn, user_id=user.id))
        for user in user_store.list_users(conn)
    ]
