"""Messages on the ingest path: every record an agent emits, written once per transaction.

Ingest jobs add messages to a buffer of the writer's transaction (``tx.buffers``); the buffer
is flushed before COMMIT as one agent lookup, one block row per agent and one counter update
per project (``storage.messages``), so a group commit of a hundred HawkFlow requests costs a
handful of statements and rows more, not a hundred. Stat points are folded into one "points"
message per stat per transaction.

With the ``agent_messages`` setting off (``tx.messages`` false) no message is written at all;
agents are still made, so the agents API and workflows keep working.

A disabled agent emits nothing: its records are still stored (runs, points, events), but no
message is made for them and its ``messages_count`` stands still.

A trace event's message is stored as a reference to the event (``domain.agents``) and filled
in with the event's fields when read (``with_trace_events``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from roost.domain.agents import (
    AgentSeed,
    format_time,
    is_trace_event_ref,
    stat_seed,
    trace_event_payload,
)
from roost.storage import agents as agent_store
from roost.storage import events as event_store
from roost.storage import messages as message_store
from roost.storage.messages import MessageRow
from roost.storage.writer import WriteTx

BUFFER = "activeworkflow-messages"



class _Emitted:
    """One agent's messages of this transaction, in order: [created_at, payload] pairs."""

    __slots__ = ("latest", "pairs", "seed")

    def __init__(self, seed: AgentSeed) -> None:
        self.seed = seed
        self.pairs: list[list[Any]] = []
        self.latest = 0


class PendingMessages:
    """The messages of all jobs of one transaction, grouped by project and agent as they come
    (each agent's become one block row)."""

    def __init__(self) -> None:
        self.items: dict[int, dict[AgentSeed, _Emitted]] = {}
        # (project, series) → [name, count, sum, first ts, last ts, created_at]
        self.points: dict[tuple[int, int], list[Any]] = {}
        # With messages off: the agents that would have emitted, made without a message.
        self.silent: dict[int, set[AgentSeed]] = {}
        self.silent_at = 0

    def add(self, project_id: int, seed: AgentSeed, created_at: int, payload: Any) -> None:
        by_agent = self.items.get(project_id)
        if by_agent is None:
            by_agent = self.items[project_id] = {}
        emitted = by_agent.get(seed)
        if emitted is None:
            emitted = by_agent[seed] = _Emitted(seed)
        emitted.pairs.append([created_at, payload])
        if created_at > emitted.latest:
            emitted.latest = created_at

    def flush(self, tx: WriteTx) -> None:
        points, silent = self.points, self.silent
        self.points, self.silent = {}, {}
        for project_id, seeds in silent.items():
            resolve_agents(tx, project_id=project_id, seeds=seeds, now=self.silent_at)
        for (project_id, series_id), (name, count, total, first, last, now) in points.items():
            payload = {
                "kind": "points",
                "stat": name,
                "count": count,
                "sum": total,
                "first_at": format_time(first),
                "last_at": format_time(last),
            }
            self.add(project_id, stat_seed(series_id, name), now, payload)
        items, self.items = self.items, {}
        for project_id, by_agent in items.items():
            emitted = [(each.seed, each.latest, each.pairs) for each in by_agent.values()]
            _write(tx, project_id, emitted, None)


def _pending(tx: WriteTx) -> PendingMessages:
    found: PendingMessages | None = tx.buffers.get(BUFFER)
    if found is None:
        found = tx.buffers[BUFFER] = PendingMessages()
    return found


def add_message(
    tx: WriteTx, *, project_id: int, agent: AgentSeed, created_at: int, payload: dict[str, Any]
) -> None:
    """Emit a message from ``agent`` when the transaction commits."""
    pending = _pending(tx)
    if not tx.messages:
        pending.silent.setdefault(project_id, set()).add(agent)
        pending.silent_at = max(pending.silent_at, created_at)
        return
    pending.add(project_id, agent, created_at, payload)


def add_points(
    tx: WriteTx,
    *,
    project_id: int,
    series_id: int,
    name: str,
    times: Sequence[int],
    values: Sequence[float],
    now: int,
) -> None:
    """Count a stat's new points into its one "points" message of this transaction."""
    if not times:
        return
    if not tx.messages:
        pending = _pending(tx)
        pending.silent.setdefault(project_id, set()).add(stat_seed(series_id, name))
        pending.silent_at = max(pending.silent_at, now)
        return
    points = _pending(tx).points
    key = (project_id, series_id)
    acc = points.get(key)
    first, last = min(times), max(times)
    if acc is None:
        points[key] = [name, len(times), float(sum(values)), first, last, now]
    else:
        acc[1] += len(times)
        acc[2] += float(sum(values))
        acc[3] = min(acc[3], first)
        acc[4] = max(acc[4], last)


def resolve_agents(
    tx: WriteTx, *, project_id: int, seeds: Collection[AgentSeed], now: int
) -> dict[tuple[str, str], tuple[int, bool]]:
    """The agents' (id, disabled) by (kind, ref), made if new (see ``storage.agents``)."""
    made: set[tuple[int, str, str]] = tx.memo.setdefault("agents-made", set())
    return agent_store.resolve(tx.conn, project_id=project_id, seeds=seeds, now=now, made=made)


def write_messages(
    tx: WriteTx,
    *,
    project_id: int,
    grouped: Mapping[AgentSeed, list[list[Any]]],
    agents: dict[tuple[str, str], tuple[int, bool]],
) -> None:
    """Store messages already grouped by agent (each agent's [created_at, payload] pairs, in
    order), from agents already found or made: the trace path groups them as it goes."""
    if grouped and tx.messages:
        emitted = [(seed, max(at for at, _ in pairs), pairs) for seed, pairs in grouped.items()]
        _write(tx, project_id, emitted, agents)


def _write(
    tx: WriteTx,
    project_id: int,
    emitted: Collection[tuple[AgentSeed, int, list[list[Any]]]],
    agents: dict[tuple[str, str], tuple[int, bool]] | None,
) -> None:
    """Store each (agent, newest created_at, pairs) as a block, finding or making the agents
    unless given; a disabled agent's are dropped."""
    if agents is None:
        now = max(latest for _, latest, _ in emitted)
        seeds = [seed for seed, _, _ in emitted]
        agents = resolve_agents(tx, project_id=project_id, seeds=seeds, now=now)
    blocks: list[message_store.Block] = []
    for seed, latest, pairs in emitted:
        agent_id, disabled = agents[(seed.kind, seed.ref)]
        if not disabled:
            blocks.append((agent_id, latest, pairs))
    message_store.insert_blocks(tx.conn, project_id=project_id, blocks=blocks)


# -- reads ------------------------------------------------------------------------------------


def with_trace_events(conn: Connection, rows: list[MessageRow]) -> list[MessageRow]:
    """The messages with each trace-event reference replaced by the event's fields (one
    lookup per project). A reference whose event is not stored stays as it is: it still
    names the event."""
    wanted: dict[int, set[str]] = {}
    for row in rows:
        if is_trace_event_ref(row.payload):
            wanted.setdefault(row.project_id, set()).add(row.payload["event_id"])
    if not wanted:
        return rows
    found = {
        (project_id, event_id): fields
        for project_id, event_ids in wanted.items()
        for event_id, fields in event_store.message_fields(
            conn, project_id=project_id, event_ids=event_ids
        ).items()
    }
    expanded: list[MessageRow] = []
    for row in rows:
        fields = (
            found.get((row.project_id, row.payload["event_id"]))
            if is_trace_event_ref(row.payload)
            else None
        )
        if fields is not None:
            row = dataclasses.replace(row, payload=trace_event_payload(*fields))
        expanded.append(row)
    return expanded
