"""Agents: who may see them, reading them with their sources and messages, and the agents,
links and automatic workflows that trace events make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from roost.domain import keys as key_rules
from roost.domain.agents import AgentSeed, event_seed, session_workflow_key, trace_event_ref
from roost.domain.errors import Forbidden, InvalidInput, NotFound
from roost.domain.keys import Scope
from roost.domain.times import parse_time
from roost.domain.users import Role
from roost.services import access
from roost.services import users as user_service
from roost.services.messages import resolve_agents, with_trace_events, write_messages
from roost.storage import agents as agent_store
from roost.storage import messages as message_store
from roost.storage import workflows as workflow_store
from roost.storage.agents import DATA, AgentRow
from roost.storage.events import EventRecord
from roost.storage.messages import MessageRow
from roost.storage.writer import WriteTx

WRITING_ROLES = frozenset({Role.OWNER.value, Role.MEMBER.value})


@dataclass(frozen=True, slots=True)
class Viewer:
    """The projects a caller sees, and those it may change."""

    project_ids: frozenset[int]
    writable: frozenset[int]

    def require_write(self, project_id: int) -> int:
        if project_id not in self.project_ids:
            raise NotFound("record not found")
        if project_id not in self.writable:
            raise Forbidden("this needs an owner or member of the project, or a write key")
        return project_id


def viewer_for(conn: Connection, *, token: str | None, secret: bytes) -> Viewer:
    """A project API key sees its project (read scope; write scope to change it); a user
    token sees every project the user belongs to (owners and members may change them)."""
    if token is not None and key_rules.KEY_PATTERN.match(token):
        principal = access.authenticate(conn, token).require(Scope.READ)
        project = frozenset({principal.project_id})
        can_write = key_rules.has_scope(principal.scopes, Scope.WRITE)
        return Viewer(project, project if can_write else frozenset())
    user = user_service.authenticate_token(conn, token=token, secret=secret)
    return Viewer(
        frozenset(item.project_id for item in user.memberships),
        frozenset(item.project_id for item in user.memberships if item.role in WRITING_ROLES),
    )


# -- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentView:
    row: AgentRow
    sources: list[int]


def _with_sources(conn: Connection, viewer: Viewer, rows: list[AgentRow]) -> list[AgentView]:
    sources = agent_store.sources_of(
        conn, project_ids=viewer.project_ids, receiver_ids=[row.id for row in rows]
    )
    return [AgentView(row, sources.get(row.id, [])) for row in rows]


def list_agents(conn: Connection, *, viewer: Viewer) -> list[AgentView]:
    if not viewer.project_ids:
        return []
    return _with_sources(
        conn, viewer, agent_store.list_agents(conn, project_ids=viewer.project_ids)
    )


def agents_by_id(conn: Connection, *, viewer: Viewer, ids: Sequence[int]) -> list[AgentView]:
    if not ids:
        return []
    rows = agent_store.list_agents(conn, project_ids=viewer.project_ids, ids=ids)
    return _with_sources(conn, viewer, rows)


def find_agent(conn: Connection, *, viewer: Viewer, agent_id: int) -> AgentRow:
    found = (
        agent_store.get_agent(conn, project_ids=viewer.project_ids, agent_id=agent_id)
        if viewer.project_ids
        else None
    )
    if found is None:
        raise NotFound("record not found")
    return found


def get_agent(conn: Connection, *, viewer: Viewer, agent_id: int) -> AgentView:
    return _with_sources(conn, viewer, [find_agent(conn, viewer=viewer, agent_id=agent_id)])[0]


def parse_after(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise InvalidInput("after", "is invalid") from None


def parse_limit(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        limit = int(value.strip())
    except ValueError:
        raise InvalidInput("limit", "is invalid") from None
    if limit < 0:
        raise InvalidInput("limit", "is invalid")
    return limit


def list_messages(
    conn: Connection,
    *,
    viewer: Viewer,
    agent_id: int,
    after: int | None,
    limit: int | None,
    keep_ms: int | None,
    now: int,
    payloads: bool = True,
) -> list[MessageRow]:
    """Newest first; ``after`` keeps those created later; expired ones are never shown.
    Without ``payloads`` (a caller that shows none) trace events' are left as stored."""
    agent = find_agent(conn, viewer=viewer, agent_id=agent_id)
    floor = after
    if keep_ms is not None:
        # Expired when created_at + keep <= now: only later ones are still there.
        floor = max(floor, now - keep_ms) if floor is not None else now - keep_ms
    rows = message_store.list_messages(
        conn, project_id=agent.project_id, agent_id=agent.id, created_after=floor, limit=limit
    )
    return with_trace_events(conn, rows) if payloads else rows


def get_message(
    conn: Connection, *, viewer: Viewer, message_id: int, keep_ms: int | None, now: int
) -> MessageRow:
    found = (
        message_store.get_message(conn, project_ids=viewer.project_ids, message_id=message_id)
        if viewer.project_ids
        else None
    )
    if found is None or (keep_ms is not None and found.created_at + keep_ms <= now):
        raise NotFound("record not found")
    return with_trace_events(conn, [found])[0]


def set_disabled(tx: WriteTx, *, viewer: Viewer, agent_id: int, disabled: bool) -> AgentView:
    """Disable (or enable) an agent: a disabled agent's records are kept, but it emits no
    messages until enabled again."""
    agent = find_agent(tx.conn, viewer=viewer, agent_id=agent_id)
    viewer.require_write(agent.project_id)
    agent_store.update_agent(
        tx.conn, project_id=agent.project_id, agent_id=agent.id, values={"disabled": disabled}
    )
    agent_store.forget_known(tx.conn)
    return get_agent(tx.conn, viewer=viewer, agent_id=agent_id)


# -- trace events (the ingest path) -----------------------------------------------------------


def record_trace_events(
    tx: WriteTx, *, project_id: int, records: Sequence[EventRecord], new_ids: set[str]
) -> None:
    """A message per new event from its event-name agent; a data link from each parent's
    agent to its child's; and each agent into the workflow of its session's name.

    One lookup finds the stored parents and sessions the batch does not hold, one the
    stored children of the batch's events (a child exported before its parent, as OTLP
    batchers do), then one statement each for agents, messages, links and workflows.
    """
    if not records:
        return
    conn = tx.conn
    names: dict[str, tuple[str, str]] = {
        record.event_id: (record.event_type, record.event_name) for record in records
    }
    wanted = {record.parent_id for record in records if record.parent_id}
    wanted |= {record.session_id for record in records}
    wanted -= names.keys()
    if wanted:
        names.update(agent_store.event_names(conn, project_id=project_id, event_ids=wanted))
    children = agent_store.children_of(conn, project_id=project_id, parent_ids=new_ids)
    seeds: dict[str, AgentSeed] = {}

    def seed_of(event_id: str) -> AgentSeed | None:
        named = names.get(event_id)
        if named is None:
            return None
        found = seeds.get(event_id)
        if found is None:
            found = seeds[event_id] = event_seed(*named)
        return found

    pairs: set[tuple[AgentSeed, AgentSeed]] = set()  # (parent, child)
    sessions: dict[str, set[AgentSeed]] = {}
    messages: dict[AgentSeed, list[list[Any]]] = {}  # of the new events, by agent, in order
    for record in records:
        mine = seed_of(record.event_id)
        assert mine is not None
        if record.event_id in new_ids:
            emitted = messages.get(mine)
            if emitted is None:
                emitted = messages[mine] = []
            emitted.append([record.received_at, trace_event_ref(record.event_id)])
        if record.parent_id:
            parent = seed_of(record.parent_id)
            if parent is not None and parent != mine:
                pairs.add((parent, mine))
        session = names.get(record.session_id)
        if session is not None:
            group = sessions.setdefault(session[1], set())
            group.add(mine)
            root = seed_of(record.session_id)
            assert root is not None
            group.add(root)
    for parent_id, child_type, child_name in children:
        parent = seed_of(parent_id)
        child = event_seed(child_type, child_name)
        if parent is not None and parent != child:
            pairs.add((parent, child))
    everyone = set(seeds.values()) | {child for _, child in pairs}
    now = max(record.received_at for record in records)
    agents = resolve_agents(tx, project_id=project_id, seeds=everyone, now=now)
    write_messages(tx, project_id=project_id, grouped=messages, agents=agents)

    def agent_id(seed: AgentSeed) -> int:
        return agents[(seed.kind, seed.ref)][0]

    agent_store.add_links(
        conn,
        project_id=project_id,
        links={(DATA, agent_id(parent), agent_id(child)) for parent, child in pairs},
    )
    if sessions:
        keyed = {
            session_workflow_key(name): {
                "name": name[:255],
                "description": f"Agents seen in trace sessions named {name!r}",
                "guid": agent_store.new_guid(),
            }
            for name in sessions
        }
        workflow_ids = workflow_store.insert_auto_workflows(
            conn, project_id=project_id, keyed=keyed, now=now
        )
        workflow_store.add_agents(
            conn,
            project_id=project_id,
            pairs={
                (workflow_ids[session_workflow_key(name)], agent_id(seed))
                for name, group in sessions.items()
                for seed in group
            },
        )


def payload_of(row: MessageRow) -> Any:
    return row.payload if row.payload is not None else {}
