"""Agents and the links between them: the SQL behind ``/api/v1/agents``.

Derived agents are found by (project, kind, ref) and made on first sight inside the writing
transaction; imported agents by their guid.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, RowMapping, bindparam, delete, func, select, update

from roost.domain import agents as agent_rules
from roost.domain.agents import AgentSeed
from roost.storage import dialects
from roost.storage.schema import agent_links, agents

DATA = "data"
CONTROL = "control"
# IN lists are cut to this size: far below both databases' bound-parameter limits.
CHUNK = 500


@dataclass(frozen=True, slots=True)
class AgentRow:
    project_id: int
    id: int
    kind: str
    ref: str
    name: str
    type: str
    guid: str
    disabled: bool
    messages_count: int
    options: str
    schedule: str | None
    keep_messages_for: int | None
    created_at: int


def _row(row: RowMapping) -> AgentRow:
    return AgentRow(**{name: row[name] for name in AgentRow.__slots__})


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def new_guid() -> str:
    return secrets.token_hex(16)


# Agents recently found, per database: (project, kind, ref) → (id, disabled, good until).
# Ingest asks for the same few agents in every group commit; this saves that query. Only rows
# that existed before the asking transaction are kept (a transaction that made an agent may
# yet roll back, and its id must never be remembered), and only for KNOWN_SECONDS, so a change
# of ``disabled`` made on another node is seen that soon (this node forgets at once).
KNOWN_SECONDS = 5.0
_known: WeakKeyDictionary[Engine, dict[tuple[int, str, str], tuple[int, bool, float]]] = (
    WeakKeyDictionary()
)


def forget_known(conn: Connection) -> None:
    """Drop what this node remembers of agents (after disabling or enabling one)."""
    _known.pop(conn.engine, None)


def resolve(
    conn: Connection,
    *,
    project_id: int,
    seeds: Collection[AgentSeed],
    now: int,
    made: set[tuple[int, str, str]],
) -> dict[tuple[str, str], tuple[int, bool]]:
    """(id, disabled) of each seed's agent by (kind, ref), making the missing ones.

    ``made`` holds the agents the calling transaction made so far (it is added to). Runs in
    every group commit that carries ingest, so its statements are driver-level SQL
    (SQLAlchemy's statement building cost several times the queries themselves).
    """
    known = _known.get(conn.engine)
    if known is None:
        known = _known.setdefault(conn.engine, {})
    clock = time.monotonic()
    found: dict[tuple[str, str], tuple[int, bool]] = {}
    wanted: list[AgentSeed] = []
    for seed in seeds:
        hit = known.get((project_id, seed.kind, seed.ref))
        if hit is not None and hit[2] > clock:
            found[(seed.kind, seed.ref)] = (hit[0], hit[1])
        else:
            wanted.append(seed)
    if not wanted:
        return found
    looked_up = _find(conn, project_id, sorted({seed.ref for seed in wanted}))
    for (kind, ref), (agent_id, disabled) in looked_up.items():
        if (project_id, kind, ref) not in made:
            known[(project_id, kind, ref)] = (agent_id, disabled, clock + KNOWN_SECONDS)
    found.update(looked_up)
    missing = {(seed.kind, seed.ref): seed for seed in wanted if (seed.kind, seed.ref) not in found}
    if not missing:
        return found
    made.update((project_id, kind, ref) for kind, ref in missing)
    ids = dialects.reserve_ids(conn, "agents", len(missing))
    dialects.insert_ignoring_conflicts(
        conn,
        agents,
        [
            {
                "project_id": project_id,
                "id": agent_id,
                "kind": seed.kind,
                "ref": seed.ref,
                "name": seed.name[:255],
                "type": seed.type,
                "guid": new_guid(),
                "disabled": False,
                "messages_count": 0,
                "options": "{}",
                "schedule": None,
                "keep_messages_for": None,
                "created_at": now,
            }
            for agent_id, seed in zip(ids, missing.values(), strict=True)
        ],
    )
    # Read back: another node may have made some of them first.
    found.update(_find(conn, project_id, sorted({ref for _, ref in missing})))
    return found


def _find(
    conn: Connection, project_id: int, refs: Sequence[str]
) -> dict[tuple[str, str], tuple[int, bool]]:
    found: dict[tuple[str, str], tuple[int, bool]] = {}
    for chunk in _chunks(refs):
        sql = _FIND.format(marks=",".join("?" * len(chunk)))
        for kind, ref, agent_id, disabled in dialects.driver_rows(conn, sql, (project_id, *chunk)):
            found[(kind, ref)] = (int(agent_id), bool(disabled))
    return found


_FIND = "SELECT kind, ref, id, disabled FROM agents WHERE project_id = ? AND ref IN ({marks})"
_ADD_COUNT = "UPDATE agents SET messages_count = messages_count + ? WHERE project_id = ? AND id = ?"


def add_to_counts(conn: Connection, *, project_id: int, counts: Mapping[int, int]) -> None:
    """Add to (or, negative, take from) agents' message counters."""
    if not counts:
        return
    sql = _ADD_COUNT.replace("?", "%s") if dialects.is_postgresql(conn) else _ADD_COUNT
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, [(n, project_id, agent_id) for agent_id, n in counts.items()])
    finally:
        cursor.close()


def list_agents(
    conn: Connection, *, project_ids: Collection[int], ids: Collection[int] | None = None
) -> list[AgentRow]:
    """Agents of the projects, newest first (by id: ids are drawn in creation order)."""
    query = select(agents).where(agents.c.project_id.in_(sorted(project_ids)))
    if ids is not None:
        query = query.where(agents.c.id.in_(sorted(ids)))
    return [_row(row) for row in conn.execute(query.order_by(agents.c.id.desc())).mappings()]


def get_agent(conn: Connection, *, project_ids: Collection[int], agent_id: int) -> AgentRow | None:
    found = (
        conn.execute(
            select(agents).where(
                agents.c.project_id.in_(sorted(project_ids)), agents.c.id == agent_id
            )
        )
        .mappings()
        .first()
    )
    return _row(found) if found else None


def find_by_guids(conn: Connection, *, project_id: int, guids: Collection[str]) -> list[AgentRow]:
    found: list[AgentRow] = []
    for chunk in _chunks(sorted(guids)):
        query = select(agents).where(agents.c.project_id == project_id, agents.c.guid.in_(chunk))
        found.extend(_row(row) for row in conn.execute(query).mappings())
    return found


def insert_imported(conn: Connection, *, project_id: int, values: dict[str, Any]) -> int:
    """An agent made by an import (kind ``imported``, ref = its guid); returns its id."""
    agent_id = dialects.next_id(conn, "agents")
    conn.execute(
        agents.insert().values(
            project_id=project_id,
            id=agent_id,
            kind=agent_rules.IMPORTED,
            ref=values["guid"],
            messages_count=0,
            **values,
        )
    )
    return agent_id


def update_agent(
    conn: Connection, *, project_id: int, agent_id: int, values: dict[str, Any]
) -> None:
    conn.execute(
        update(agents)
        .where(agents.c.project_id == project_id, agents.c.id == agent_id)
        .values(**values)
    )


def sources_of(
    conn: Connection, *, project_ids: Collection[int], receiver_ids: Collection[int]
) -> dict[int, list[int]]:
    """Each receiver's data sources, ascending."""
    found: dict[int, list[int]] = {}
    for chunk in _chunks(sorted(receiver_ids)):
        rows = conn.execute(
            select(agent_links.c.receiver_id, agent_links.c.source_id)
            .where(
                agent_links.c.project_id.in_(sorted(project_ids)),
                agent_links.c.kind == DATA,
                agent_links.c.receiver_id.in_(chunk),
            )
            .order_by(agent_links.c.receiver_id, agent_links.c.source_id)
        )
        for receiver_id, source_id in rows:
            found.setdefault(receiver_id, []).append(source_id)
    return found


def links_among(
    conn: Connection, *, project_id: int, agent_ids: Collection[int]
) -> list[tuple[str, int, int]]:
    """(kind, source, receiver) of every link with both ends in ``agent_ids``."""
    wanted = set(agent_ids)
    found: list[tuple[str, int, int]] = []
    for chunk in _chunks(sorted(wanted)):
        rows = conn.execute(
            select(agent_links.c.kind, agent_links.c.source_id, agent_links.c.receiver_id)
            .where(agent_links.c.project_id == project_id, agent_links.c.receiver_id.in_(chunk))
            .order_by(agent_links.c.source_id, agent_links.c.receiver_id)
        )
        found.extend((kind, s, r) for kind, s, r in rows if s in wanted)
    return found


def add_links(
    conn: Connection, *, project_id: int, links: Collection[tuple[str, int, int]]
) -> None:
    """Add links; those already there are left alone (trace ingest adds the same ones often)."""
    rows = [(project_id, kind, s, r) for kind, s, r in sorted(links)]
    dialects.insert_many(conn, _ADD_LINKS, rows, 4)


_ADD_LINKS = (
    "INSERT INTO agent_links (project_id, kind, source_id, receiver_id) VALUES {rows} "
    "ON CONFLICT DO NOTHING"
)


def remove_links_among(conn: Connection, *, project_id: int, agent_ids: Collection[int]) -> None:
    """Drop the links between these agents (an import then recreates them from its file)."""
    found = links_among(conn, project_id=project_id, agent_ids=agent_ids)
    if found:
        conn.execute(
            delete(agent_links).where(
                agent_links.c.project_id == project_id,
                agent_links.c.kind == bindparam("p_kind"),
                agent_links.c.source_id == bindparam("p_source"),
                agent_links.c.receiver_id == bindparam("p_receiver"),
            ),
            [{"p_kind": k, "p_source": s, "p_receiver": r} for k, s, r in found],
        )


def event_names(
    conn: Connection, *, project_id: int, event_ids: Collection[str]
) -> dict[str, tuple[str, str]]:
    """(event type, event name) of stored trace events, by id."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(sorted(event_ids)):
        sql = _EVENT_NAMES.format(marks=",".join("?" * len(chunk)))
        for event_id, event_type, event_name in dialects.driver_rows(
            conn, sql, (project_id, *chunk)
        ):
            found[event_id] = (event_type, event_name)
    return found


_EVENT_NAMES = (
    "SELECT event_id, event_type, event_name FROM trace_events "
    "WHERE project_id = ? AND event_id IN ({marks})"
)


def children_of(
    conn: Connection, *, project_id: int, parent_ids: Collection[str]
) -> list[tuple[str, str, str]]:
    """(parent id, event type, event name) of the distinct stored children of these events."""
    found: list[tuple[str, str, str]] = []
    for chunk in _chunks(sorted(parent_ids)):
        sql = _CHILDREN.format(marks=",".join("?" * len(chunk)))
        found.extend(dialects.driver_rows(conn, sql, (project_id, *chunk)))
    return found


_CHILDREN = (
    "SELECT DISTINCT parent_id, event_type, event_name FROM trace_events "
    "WHERE project_id = ? AND parent_id IN ({marks})"
)


def count_agents(conn: Connection, *, project_id: int) -> int:
    return int(
        conn.execute(select(func.count()).where(agents.c.project_id == project_id)).scalar_one()
    )
