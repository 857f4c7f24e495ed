"""API keys and scopes.

Keys are random, shown once, and stored as a SHA-256 hash: with 240 bits of randomness a fast
hash is enough (there is nothing to brute-force), and it keeps authentication cheap on the
ingest path. The format passes the HawkFlow client's own check: at most 50 characters of
``[A-Za-z0-9_-]``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from enum import StrEnum

from roost.domain.errors import InvalidInput

KEY_PREFIX = "rk_"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
SHOWN_PREFIX_LENGTH = 8


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"  # manage keys; implies read and write


DEFAULT_SCOPES: frozenset[Scope] = frozenset({Scope.READ, Scope.WRITE})


def generate_key() -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(30)  # 40 url-safe characters
    assert KEY_PATTERN.match(key)
    return key


# Every ingest request hashes its key, and a server sees few distinct keys: remembering the
# last few thousand digests saves a SHA-256 per request on the event loop (bounded, so a
# stream of random keys only evicts).
@functools.lru_cache(maxsize=4096)
def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(raw: object, field: str = "scopes") -> frozenset[Scope]:
    """A list (or comma-separated string) of scope names; empty is refused."""
    if isinstance(raw, str):
        items: list[object] = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        items = list(raw)
    else:
        raise InvalidInput(field, "must be a list of scopes")
    scopes: set[Scope] = set()
    for item in items:
        try:
            scopes.add(Scope(item))  # type: ignore[arg-type]  # ValueError names it below
        except ValueError:
            raise InvalidInput(field, f"unknown scope {item!r}; use read, write or admin") from None
    if not scopes:
        raise InvalidInput(field, "must name at least one scope")
    return frozenset(scopes)


def format_scopes(scopes: frozenset[Scope]) -> str:
    return ",".join(sorted(scope.value for scope in scopes))


def has_scope(granted: frozenset[Scope], needed: Scope) -> bool:
    return needed in granted or Scope.ADMIN in granted


def scopes_from_text(text: str) -> frozenset[Scope]:
    return frozenset(Scope(part) for part in text.split(",") if part)
