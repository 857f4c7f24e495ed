"""Key aliases: other names a key answers to as a StatHat ``ezkey``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, select

from roost.storage.schema import api_key_aliases as aliases
from roost.storage.schema import api_keys
from roost.storage.tenancy import KeyRow, find_active_key, get_key


def claim_aliases(
    conn: Connection, *, project_id: int, key_id: int, names: Sequence[str], created_at: int
) -> list[str]:
    """Give ``names`` to the key; returns those an active key elsewhere holds (nothing is given).

    An alias of a revoked key is free again: its old row is removed before the new one goes in.
    """
    if not names:
        return []
    held = conn.execute(
        select(aliases.c.alias, aliases.c.key_id, api_keys.c.revoked_at)
        .join(
            api_keys,
            (api_keys.c.project_id == aliases.c.project_id) & (api_keys.c.id == aliases.c.key_id),
        )
        .where(aliases.c.alias.in_(list(names)))
    ).all()
    taken = [alias for alias, owner, revoked in held if revoked is None and owner != key_id]
    if taken:
        return taken
    stale = [alias for alias, owner, revoked in held if revoked is not None]
    if stale:
        conn.execute(delete(aliases).where(aliases.c.alias.in_(stale)))
    mine = {alias for alias, owner, revoked in held if owner == key_id and revoked is None}
    rows = [
        {"project_id": project_id, "key_id": key_id, "alias": name, "created_at": created_at}
        for name in names
        if name not in mine
    ]
    if rows:
        conn.execute(aliases.insert(), rows)
    return []


# Built once: /ez looks an alias up on every request that does not carry a key.
_BY_ALIAS = select(aliases.c.project_id, aliases.c.key_id).where(
    aliases.c.alias == bindparam("alias")
)


def find_active_key_by_alias(conn: Connection, alias: str) -> KeyRow | None:
    found = conn.execute(_BY_ALIAS, {"alias": alias}).first()
    if found is None:
        return None
    row = get_key(conn, found.key_id, project_id=found.project_id)
    return row if row is not None and row.revoked_at is None else None


def find_active_key_or_alias(conn: Connection, key_hash: str | None, alias: str) -> KeyRow | None:
    """The active key with that hash, else the active key holding that alias."""
    if key_hash is not None:
        row = find_active_key(conn, key_hash)
        if row is not None:
            return row
    return find_active_key_by_alias(conn, alias)


def list_aliases(conn: Connection, *, project_id: int) -> dict[int, list[str]]:
    """Each key's aliases, by key id."""
    found: dict[int, list[str]] = {}
    for key_id, alias in conn.execute(
        select(aliases.c.key_id, aliases.c.alias)
        .where(aliases.c.project_id == project_id)
        .order_by(aliases.c.key_id, aliases.c.alias)
    ):
        found.setdefault(key_id, []).append(alias)
    return found
