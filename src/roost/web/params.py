"""Query and path values the telemetry pages share: record ids and page cursors."""

from __future__ import annotations

from roost.domain.errors import NotFound

MAX_ID = 2**63 - 1


def record_id(raw: str, what: str = "record") -> int:
    """A path id; anything outside the database's range is simply not there (404)."""
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"{what} not found")
    return int(raw)


def before(raw: str | None) -> int | None:
    """A ``before`` cursor (an id); a malformed one starts from the newest."""
    if raw and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    return None


def text(raw: str | None, limit: int = 200) -> str:
    return (raw or "").strip()[:limit]
