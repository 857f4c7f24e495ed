"""Reading traces: one event, a session as a tree, lists of sessions, event search."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import orjson
from sqlalchemy import Connection

from roost.domain.errors import InvalidInput, NotFound
from roost.storage import event_search
from roost.storage import events as event_store
from roost.storage.event_search import EventQuery
from roost.storage.events import EventRow, SessionQuery, SessionRow

# A session tree holds at most this many events (oldest first) …
MAX_TREE_EVENTS = 10_000
# … and this many levels: deeper events hang from their ancestor at the last level, so the
# answer stays within what a JSON encoder will nest.
MAX_TREE_DEPTH = 100


@dataclass(slots=True)
class TreeNode:
    row: EventRow
    children: list[TreeNode] = field(default_factory=list)

    @property
    def children_ids(self) -> list[str]:
        """The ids a client named as children, then those found through ``parent_id``."""
        return merge_ids(
            orjson.loads(self.row.children_ids), (c.row.event_id for c in self.children)
        )


@dataclass(frozen=True, slots=True)
class SessionTree:
    session: SessionRow
    root: TreeNode
    has_feedback: bool
    truncated: bool  # more than MAX_TREE_EVENTS events


@dataclass(frozen=True, slots=True)
class EventView:
    row: EventRow
    children_ids: list[str]


def merge_ids(named: object, found: object) -> list[str]:
    ids = [child for child in named if isinstance(child, str)] if isinstance(named, list) else []
    seen = set(ids)
    for child in found:  # type: ignore[attr-defined]
        if child not in seen:
            seen.add(child)
            ids.append(child)
    return ids


def named_children(row: EventRow) -> list[str]:
    """The children ids a client named for this event (without a search for the others)."""
    return merge_ids(orjson.loads(row.children_ids), ())


def get_event(conn: Connection, *, project_id: int, event_id: str) -> EventView:
    row = event_store.get_event(conn, project_id=project_id, event_id=event_id)
    if row is None:
        raise NotFound("event not found")
    found = event_store.child_ids(conn, project_id=project_id, parent_ids=[event_id])
    return EventView(row, merge_ids(orjson.loads(row.children_ids), found.get(event_id, [])))


def get_session_tree(conn: Connection, *, project_id: int, session_id: str) -> SessionTree:
    """The session event with its events nested below it, siblings oldest first.

    An event whose parent is unknown (not arrived yet, or in no session) hangs from the
    session, so nothing the session holds is hidden.
    """
    session = event_store.get_session(conn, project_id=project_id, session_id=session_id)
    if session is None or session.event is None:
        raise NotFound("session not found")
    rows = event_store.session_events(
        conn, project_id=project_id, session_id=session_id, limit=MAX_TREE_EVENTS + 1
    )
    truncated = len(rows) > MAX_TREE_EVENTS
    rows = rows[:MAX_TREE_EVENTS]
    root = TreeNode(session.event)
    nodes = {row.event_id: TreeNode(row) for row in rows if row.event_id != session_id}
    nodes[session_id] = root
    _build(root, nodes)
    has_feedback = any(row.feedback != "{}" for row in rows)
    return SessionTree(session, root, has_feedback, truncated)


def _build(root: TreeNode, nodes: dict[str, TreeNode]) -> None:
    """Link nodes by parent id, breadth first from the root; cycles and orphans join the root."""
    below: dict[str, list[TreeNode]] = {}
    for node in nodes.values():
        if node is root:
            continue
        parent = node.row.parent_id
        if parent is None or parent == node.row.event_id or parent not in nodes:
            parent = root.row.event_id
        below.setdefault(parent, []).append(node)
    placed = {root.row.event_id}
    # (node, the node its children hang from, that node's depth)
    level: list[tuple[TreeNode, TreeNode, int]] = [(root, root, 0)]
    while True:
        while level:
            following = []
            for node, host, host_depth in level:
                for child in below.get(node.row.event_id, ()):
                    if child.row.event_id in placed:
                        continue
                    placed.add(child.row.event_id)
                    host.children.append(child)
                    depth = host_depth + 1
                    if depth < MAX_TREE_DEPTH:
                        following.append((child, child, depth))
                    else:
                        following.append((child, host, host_depth))
            level = following
        # Whatever is left sits in a parent cycle, out of the root's reach: hang it there.
        stranded = [node for key, node in nodes.items() if key not in placed]
        if not stranded:
            break
        first = min(stranded, key=lambda node: (node.row.start_time, node.row.event_id))
        placed.add(first.row.event_id)
        root.children.append(first)
        level = [(first, first, 1)]
    for node in nodes.values():
        node.children.sort(key=lambda child: (child.row.start_time, child.row.event_id))


# -- lists and search -----------------------------------------------------------------------


def encode_cursor(start_time: float, row_id: str) -> str:
    raw = orjson.dumps([start_time, row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, field: str = "cursor") -> tuple[float, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start_time, row_id = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidInput(field, "is not a cursor this API gave out") from None
    if (
        isinstance(start_time, bool)
        or not isinstance(start_time, int | float)
        or not math.isfinite(start_time)
        or not isinstance(row_id, str)
    ):
        raise InvalidInput(field, "is not a cursor this API gave out")
    return float(start_time), row_id


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def list_sessions(conn: Connection, *, project_id: int, query: SessionQuery) -> Page[SessionRow]:
    """Sessions newest first; one more than asked is read to know whether a page follows."""
    probe = replace(query, limit=query.limit + 1)
    rows = event_store.list_sessions(conn, project_id=project_id, query=probe)
    shown = rows[: query.limit]
    last = shown[-1] if len(rows) > query.limit else None
    return Page(shown, encode_cursor(last.start_time, last.session_id) if last else None)


def search_events(conn: Connection, *, project_id: int, query: EventQuery) -> Page[EventRow]:
    probe = replace(query, limit=query.limit + 1)
    rows = event_search.find_events(conn, project_id=project_id, query=probe)
    shown = rows[: query.limit]
    last = shown[-1] if len(rows) > query.limit else None
    return Page(shown, encode_cursor(last.start_time, last.event_id) if last else None)


def export_events(
    conn: Connection, *, project_id: int, query: EventQuery
) -> tuple[list[EventRow], int]:
    """A page of events and how many match in all (HoneyHive's export)."""
    rows = event_search.find_events(conn, project_id=project_id, query=query)
    return rows, event_search.count_events(conn, project_id=project_id, query=query)


def sessions_by_ids(
    conn: Connection, *, project_id: int, session_ids: list[str]
) -> list[SessionRow]:
    """These sessions of the project (unknown ids left out), in the order given."""
    found = (
        event_store.get_session(conn, project_id=project_id, session_id=session_id)
        for session_id in session_ids
    )
    return [row for row in found if row is not None]
