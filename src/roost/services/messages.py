"""Messages on the ingest path: every record an agent emits, written once per transaction.

Ingest jobs add messages to a buffer of the writer's transaction (``tx.buffers``); the buffer
is flushed before COMMIT as one agent lookup, one multi-row insert and one counter update per
project, so a group commit of a hundred HawkFlow requests costs a handful of statements more,
not a hundred. Stat points are folded into one "points" message per stat per transaction.

A disabled agent emits nothing: its records are still stored (runs, points, events), but no
message is made for them and its ``messages_count`` stands still.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import orjson

from roost.domain.agents import AgentSeed, format_time, stat_seed
from roost.storage import agents as agent_store
from roost.storage import messages as message_store
from roost.storage.writer import WriteTx

BUFFER = "activeworkflow-messages"

Pending = tuple[AgentSeed, int, dict[str, Any]]  # (agent, created_at, payload)


class PendingMessages:
    """The messages of all jobs of one transaction."""

    def __init__(self) -> None:
        self.items: dict[int, list[Pending]] = {}
        # (project, series) → [name, count, sum, first ts, last ts, created_at]
        self.points: dict[tuple[int, int], list[Any]] = {}

    def flush(self, tx: WriteTx) -> None:
        items, points = self.items, self.points
        self.items, self.points = {}, {}
        for (project_id, series_id), (name, count, total, first, last, now) in points.items():
            payload = {
                "kind": "points",
                "stat": name,
                "count": count,
                "sum": total,
                "first_at": format_time(first),
                "last_at": format_time(last),
            }
            items.setdefault(project_id, []).append((stat_seed(series_id, name), now, payload))
        for project_id, pending in items.items():
            write_messages(tx, project_id=project_id, pending=pending)


def _pending(tx: WriteTx) -> PendingMessages:
    found: PendingMessages | None = tx.buffers.get(BUFFER)
    if found is None:
        found = tx.buffers[BUFFER] = PendingMessages()
    return found


def add_message(
    tx: WriteTx, *, project_id: int, agent: AgentSeed, created_at: int, payload: dict[str, Any]
) -> None:
    """Emit a message from ``agent`` when the transaction commits."""
    _pending(tx).items.setdefault(project_id, []).append((agent, created_at, payload))


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
    pending: Sequence[Pending],
    agents: dict[tuple[str, str], tuple[int, bool]] | None = None,
) -> None:
    """Find (or make) the agents, unless given, then store the enabled ones' messages."""
    if not pending:
        return
    if agents is None:
        seeds = {(seed.kind, seed.ref): seed for seed, _, _ in pending}
        now = max(created_at for _, created_at, _ in pending)
        agents = resolve_agents(tx, project_id=project_id, seeds=seeds.values(), now=now)
    rows: list[tuple[int, int, str]] = []
    for seed, created_at, payload in pending:
        agent_id, disabled = agents[(seed.kind, seed.ref)]
        if not disabled:
            rows.append((agent_id, created_at, orjson.dumps(payload).decode()))
    message_store.insert_messages(tx.conn, project_id=project_id, rows=rows)
