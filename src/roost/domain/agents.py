"""Agents as ActiveWorkflow sees them: what each kind of Roost record makes, and its wire times.

An agent is anything that emits records. Derived agents are named by what they stand for
(``kind`` + ``ref``) so the ingest path can find them without knowing their ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

PROCESS = "process"
STAT = "stat"
EVENT = "event"
IMPORTED = "imported"

PROCESS_TYPE = "Agents::Process"
STAT_TYPE = "Agents::Stat"
# One agent per trace event name and event type.
EVENT_TYPES = {
    "session": "Agents::SessionEvent",
    "model": "Agents::ModelEvent",
    "tool": "Agents::ToolEvent",
    "chain": "Agents::ChainEvent",
}
TYPE_PREFIX = "Agents::"
MAX_NAME = 255


class AgentSeed(NamedTuple):
    """What a derived agent is made with when first seen.

    A named tuple: the ingest path hashes and compares seeds for every record (grouping
    messages by agent), and a tuple does both in C."""

    kind: str
    ref: str
    name: str
    type: str


def process_seed(process_id: int, name: str, meta: str) -> AgentSeed:
    label = f"{name} [{meta}]" if meta else name
    return AgentSeed(PROCESS, str(process_id), label[:MAX_NAME], PROCESS_TYPE)


def stat_seed(series_id: int, name: str) -> AgentSeed:
    return AgentSeed(STAT, str(series_id), name[:MAX_NAME], STAT_TYPE)


def event_seed(event_type: str, event_name: str) -> AgentSeed:
    agent_type = EVENT_TYPES.get(event_type, "Agents::Event")
    return AgentSeed(EVENT, f"{event_type}:{event_name}", event_name[:MAX_NAME], agent_type)


# A trace event's message is stored as a reference to the event, and read back with the
# event's fields (``trace_event_payload``): an OTLP batch makes a message per span, and the
# full payload repeated a third of what the spans themselves cost to write.
TRACE_EVENT = "trace_event"


def trace_event_ref(event_id: str) -> dict[str, str]:
    return {"kind": TRACE_EVENT, "event_id": event_id}


def is_trace_event_ref(payload: object) -> bool:
    """A stored reference, as opposed to a whole payload (as messages of trace events were
    stored until December 2026; those are read as they are)."""
    return type(payload) is dict and len(payload) == 2 and payload.get("kind") == TRACE_EVENT


def trace_event_payload(
    event_id: str,
    session_id: str,
    parent_id: str | None,
    event_type: str,
    event_name: str,
    duration: float,
    has_error: int,
) -> dict[str, object]:
    """What a trace event's message says: enough to find the event, its session and parent."""
    return {
        "kind": TRACE_EVENT,
        "event_id": event_id,
        "session_id": session_id,
        "parent_id": parent_id,
        "event_type": event_type,
        "event_name": event_name,
        "duration_ms": duration,
        "error": bool(has_error),
    }


def session_workflow_key(session_name: str) -> str:
    return f"session:{session_name}"


def format_time(ms: int) -> str:
    """ActiveWorkflow's ``iso8601(3)``: always milliseconds, here always UTC (``Z``)."""
    # isoformat is several times faster than strftime, and this runs on the ingest path.
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC).replace(tzinfo=None)
    return f"{moment.isoformat()}.{ms % 1000:03d}Z"


def expires_at(created_at: int, keep_ms: int | None) -> int | None:
    """When a message expires: ``keep_ms`` after it was made, or never (None)."""
    return None if keep_ms is None else created_at + keep_ms
