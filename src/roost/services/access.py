"""Projects, API keys and authentication."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from roost.domain import keys as key_rules
from roost.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from roost.domain.keys import Scope
from roost.storage import aliases as alias_store
from roost.storage import tenancy
from roost.storage.tenancy import KeyRow, ProjectRow
from roost.storage.writer import WriteTx

MAX_PROJECT_NAME = 200
MAX_KEY_NAME = 200


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the project a key belongs to and what the key may do."""

    project_id: int
    key_id: int
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> Principal:
        if not key_rules.has_scope(self.scopes, scope):
            raise Forbidden(f"this key lacks the '{scope.value}' scope")
        return self


@dataclass(frozen=True, slots=True)
class NewKey:
    row: KeyRow
    secret: str  # shown once, never stored


def _has_control_characters(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def validate_project_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_PROJECT_NAME:
        raise InvalidInput("project", f"must be 1 to {MAX_PROJECT_NAME} characters")
    if _has_control_characters(cleaned):
        raise InvalidInput("project", "must not contain control characters")
    return cleaned


def validate_key_name(name: object) -> str:
    if name is None:
        return ""
    if not isinstance(name, str) or len(name) > MAX_KEY_NAME:
        raise InvalidInput("name", f"must be a string of at most {MAX_KEY_NAME} characters")
    if _has_control_characters(name):
        raise InvalidInput("name", "must not contain control characters")
    return name.strip()


def ensure_project(tx: WriteTx, *, name: str, now: int) -> ProjectRow:
    existing = tenancy.find_project(tx.conn, name)
    return existing or tenancy.insert_project(tx.conn, name=name, created_at=now)


def create_key(
    tx: WriteTx,
    *,
    project_id: int,
    name: str,
    scopes: frozenset[Scope],
    now: int,
    aliases: Sequence[str] = (),
) -> NewKey:
    """A new key; ``aliases`` (checked by ``domain.stathat.parse_aliases``) are the other names
    it answers to as a StatHat ezkey, so they need the write scope and must be free."""
    if aliases and not key_rules.has_scope(scopes, Scope.WRITE):
        raise InvalidInput("aliases", "need a key with the write scope")
    secret = key_rules.generate_key()
    row = tenancy.insert_key(
        tx.conn,
        project_id=project_id,
        name=name,
        prefix=secret[: key_rules.SHOWN_PREFIX_LENGTH],
        key_hash=key_rules.hash_key(secret),
        scopes=key_rules.format_scopes(scopes),
        created_at=now,
    )
    taken = alias_store.claim_aliases(
        tx.conn, project_id=project_id, key_id=row.id, names=aliases, created_at=now
    )
    if taken:
        # Raised, not returned: the key row above must be rolled back with it.
        raise InvalidInput("aliases", f"{taken[0]!r} is already an alias of another key")
    return NewKey(row=row, secret=secret)


def revoke_key(tx: WriteTx, *, project_id: int, key_id: int, now: int) -> None:
    if not tenancy.revoke_key(tx.conn, project_id=project_id, key_id=key_id, revoked_at=now):
        raise NotFound("key not found")


def revoke_key_anywhere(tx: WriteTx, *, key_id: int, now: int) -> KeyRow:
    """Revoke by id alone (the operator's CLI, which spans projects)."""
    row = tenancy.get_key(tx.conn, key_id)
    if row is None or row.revoked_at is not None:
        raise NotFound("no active key with that id")
    tenancy.revoke_key(tx.conn, project_id=row.project_id, key_id=key_id, revoked_at=now)
    return row


def list_keys(conn: Connection, *, project_id: int) -> list[KeyRow]:
    return tenancy.list_keys(conn, project_id=project_id)


def list_aliases(conn: Connection, *, project_id: int) -> dict[int, list[str]]:
    """Each key's ezkey aliases, by key id."""
    return alias_store.list_aliases(conn, project_id=project_id)


def find_project(conn: Connection, name: str) -> ProjectRow | None:
    return tenancy.find_project(conn, name)


def get_project(conn: Connection, project_id: int) -> ProjectRow | None:
    return tenancy.get_project(conn, project_id)


def _principal(row: KeyRow) -> Principal:
    return Principal(row.project_id, row.id, key_rules.scopes_from_text(row.scopes))


def authenticate(conn: Connection, secret: str | None) -> Principal:
    """The principal for a presented key; unknown, malformed and revoked keys are all 401."""
    if not secret or not key_rules.KEY_PATTERN.match(secret):
        raise Unauthorized("missing or invalid API key")
    row = tenancy.find_active_key(conn, key_rules.hash_key(secret))
    if row is None:
        raise Unauthorized("missing or invalid API key")
    return _principal(row)


def authenticate_in(tx: WriteTx, key_hash: str) -> Principal:
    """Authenticate inside a write transaction, memoised for that transaction.

    Checking the key in the same transaction as the write means a revoked key stops working
    the moment the revocation commits, with no cache to go stale.
    """
    memo_key = ("key", key_hash)
    principal = tx.memo.get(memo_key)
    if principal is None:
        row = tenancy.find_active_key(tx.conn, key_hash)
        if row is None:
            raise Unauthorized("missing or invalid API key")
        principal = tx.memo[memo_key] = _principal(row)
    return principal  # type: ignore[no-any-return]


def authenticate_ezkey_in(tx: WriteTx, ezkey: str) -> Principal:
    """A StatHat ezkey inside a write transaction: an API key, or one of a key's aliases.

    An alias stands for its key only here (ingest through ``/ez``); it never works as a
    bearer token, a classic ``ukey`` or an export access token.
    """
    memo_key = ("ezkey", ezkey)
    principal = tx.memo.get(memo_key)
    if principal is None:
        key_hash = key_rules.hash_key(ezkey) if key_rules.KEY_PATTERN.match(ezkey) else None
        row = alias_store.find_active_key_or_alias(tx.conn, key_hash, ezkey)
        if row is None:
            raise Unauthorized("invalid ezkey")
        principal = tx.memo[memo_key] = _principal(row)
    return principal  # type: ignore[no-any-return]
