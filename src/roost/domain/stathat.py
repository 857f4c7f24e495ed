"""StatHat's rules that are not wire details: multi-stat names, classic keys, key aliases."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from roost.domain.errors import InvalidInput
from roost.domain.stats import parse_stat_name

# A classic key as StatHat made them: random, url-safe (22 characters here).
CLASSIC_KEY_BYTES = 16
MAX_CLASSIC_KEY = 255
MAX_ALIASES = 20
MAX_ALIAS = 255
# More names than this from one '~' post is a mistake, not a use.
MAX_EXPANDED_NAMES = 100
DEFAULT_BASE_URL = "https://www.stathat.com"
# Access tokens become a path segment of the source's URLs.
ACCESS_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def generate_classic_key() -> str:
    return secrets.token_urlsafe(CLASSIC_KEY_BYTES)


def expand_stat_names(raw: object, field: str) -> list[str]:
    """``prefix~a,b,c`` → ``["prefix a", "prefix b", "prefix c"]``; any other name as itself.

    Each name is joined from the prefix and one suffix by a single space, then checked like
    every stat name; empty suffixes are skipped.
    """
    if not isinstance(raw, str) or "~" not in raw:
        return [parse_stat_name(raw, field)]
    prefix, _, rest = raw.partition("~")
    suffixes = [part.strip() for part in rest.split(",") if part.strip()]
    if not suffixes:
        raise InvalidInput(field, "names nothing after '~'")
    if len(suffixes) > MAX_EXPANDED_NAMES:
        raise InvalidInput(field, f"names more than {MAX_EXPANDED_NAMES} stats after '~'")
    names: list[str] = []
    for suffix in suffixes:
        name = f"{prefix.strip()} {suffix}".strip()
        if name not in names:
            names.append(parse_stat_name(name, field))
    return names


def parse_classic_key(raw: object, field: str = "key") -> str:
    """A classic key; an unknown one names the stat it creates, so it obeys the name rules."""
    return parse_stat_name(raw, field)


def parse_alias(raw: object, field: str) -> str:
    """An ezkey alias such as ``ops@example.com``; compared exactly, case included."""
    if not isinstance(raw, str):
        raise InvalidInput(field, "must be a string")
    alias = raw.strip()
    if not alias or len(alias) > MAX_ALIAS:
        raise InvalidInput(field, f"must be 1 to {MAX_ALIAS} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in alias):
        raise InvalidInput(field, "must not contain control characters")
    return alias


def parse_aliases(raw: object, field: str = "aliases") -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise InvalidInput(field, "must be a list of strings")
    if len(raw) > MAX_ALIASES:
        raise InvalidInput(field, f"at most {MAX_ALIASES} per key")
    aliases: list[str] = []
    for index, item in enumerate(raw):
        alias = parse_alias(item, f"{field}[{index}]")
        if alias not in aliases:
            aliases.append(alias)
    return tuple(aliases)


def parse_access_token(raw: object, field: str = "access_token") -> str:
    if not isinstance(raw, str) or not ACCESS_TOKEN.match(raw.strip()):
        raise InvalidInput(field, "is required: 1 to 200 letters, digits, '_' or '-'")
    return raw.strip()


def parse_base_url(raw: object, field: str = "base_url") -> str:
    """An http(s) URL without query or fragment; the export API lives under ``<url>/x/``."""
    if raw is None:
        return DEFAULT_BASE_URL
    if not isinstance(raw, str) or len(raw) > 500:
        raise InvalidInput(field, "must be an http or https URL")
    try:
        parts = urlsplit(raw.strip())
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise InvalidInput(field, "must be an http or https URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(field, "must be an http or https URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidInput(field, "must not have a query, a fragment or credentials")
    return raw.strip().rstrip("/")
