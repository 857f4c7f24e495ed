"""Trace events: HoneyHive sessions and events, OpenTelemetry spans, in one shape.

A session is the root event (``event_type`` "session", its ``event_id`` equal to its
``session_id``); every other event hangs below it by ``parent_id``. Times are unix
milliseconds with a fraction, as HoneyHive sends them; durations are milliseconds.

Pure rules only: ids, event types, times, names and the usage (tokens, cost) an event reports.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from roost.domain.errors import InvalidInput
from roost.domain.portable import compact_pickle
from roost.domain.times import MAX_MS

MAX_NAME = 255  # the column's width; see storage/schema.py
MAX_SOURCE = 255
MAX_ERROR = 100_000
UNKNOWN = "unknown"
# Event ids derived from span ids live in their own UUIDv5 namespace, so the same span always
# maps to the same event (re-delivery overwrites) and a child can name its parent's id before
# the parent has arrived.
SPAN_NAMESPACE = uuid.UUID("6f1b7e1e-5c2a-4f0e-9a57-0d8f2b6c4a31")


class EventType(StrEnum):
    SESSION = "session"
    MODEL = "model"
    TOOL = "tool"
    CHAIN = "chain"


EVENT_TYPES = frozenset(EventType)
# The seven JSON buckets every event carries.
BUCKETS = ("inputs", "outputs", "config", "metadata", "metrics", "feedback", "user_properties")


@compact_pickle
@dataclass(slots=True)
class TraceEvent:
    event_id: str
    session_id: str
    parent_id: str | None
    event_type: str
    event_name: str
    source: str
    start_time: float
    end_time: float
    duration: float
    error: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    feedback: dict[str, Any] = field(default_factory=dict)
    user_properties: dict[str, Any] = field(default_factory=dict)
    children_ids: list[str] = field(default_factory=list)
    # The name a session created on this event's behalf gets (OTLP's honeyhive.session_name).
    session_name: str | None = None

    @property
    def is_session(self) -> bool:
        return self.event_type == EventType.SESSION


@compact_pickle
@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost an event reports (model events, mostly)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | None = None


@compact_pickle
@dataclass(slots=True)
class EventUpdate:
    """``PUT /events``: object fields merge into the stored ones; the rest replace."""

    event_id: str
    merges: dict[str, dict[str, Any]] = field(default_factory=dict)  # bucket → fields
    duration: float | None = None
    end_time: float | None = None
    children_ids: list[str] = field(default_factory=list)
    error: str | None = None
    has_error: bool = False  # error given (possibly null, which clears it)


# -- ids ------------------------------------------------------------------------------------


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NAMESPACE_BYTES = SPAN_NAMESPACE.bytes


def parse_uuid(value: object) -> str | None:
    """The canonical lower-case form of a UUID string, or None when it is not one."""
    if not isinstance(value, str) or not 32 <= len(value) <= 45:
        return None
    if _CANONICAL_UUID.fullmatch(value):  # the usual spelling, without building a UUID
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _hash(name: str) -> bytes:
    return hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()


# The RFC 4122 variant (binary 10xx) in place of a hex digit's two high bits.
_VARIANT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}


def _format_uuid(raw: bytes, version: int) -> str:
    """The first 16 bytes of ``raw`` as a UUID string of ``version`` (5 or 7)."""
    text = raw[:16].hex()  # every span's id comes through here: string slices, no bytearray
    return (
        f"{text[:8]}-{text[8:12]}-{version:x}{text[13:16]}-"
        f"{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"
    )


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(SPAN_NAMESPACE, name))``, without the UUID object."""
    return _format_uuid(_hash(name), 5)


def new_id() -> str:
    """A new time-ordered UUID (version 7).

    Clients only need a UUID (HoneyHive's docs say v4); ids that grow with time land next to
    each other in the primary key index, which a random id never does.
    """
    ms = time.time_ns() // 1_000_000
    return _format_uuid(ms.to_bytes(6, "big") + os.urandom(10), 7)


def id_or_new(value: object) -> str:
    """HoneyHive's rule: a missing or invalid id is replaced by a new UUIDv4."""
    return parse_uuid(value) or new_id()


def external_id(value: str) -> str:
    """The UUID an event or session goes by when a client names it with free text.

    A UUID stands for itself; any other text (an OpenInference ``session.id``, a path id
    like ``conversation-42``) always maps to the same UUIDv5, wherever it is given.
    """
    return parse_uuid(value) or _uuid5(f"id:{value}")


def trace_session_id(trace_id: str) -> str:
    """The session of a span that names none: one session per trace."""
    return _uuid5(f"trace:{trace_id}")


def trace_prefix(trace_id: str) -> bytes:
    """The first half of the event ids of a trace's spans."""
    return _hash(f"trace-events:{trace_id}")[:8]


def span_event_id(trace_id: str, span_id: str, prefix: bytes | None = None) -> str:
    """The event id of a span: deterministic, so a re-delivery overwrites and a child can name
    its parent before the parent arrives.

    A UUIDv5-style id whose first half comes from the trace alone: the spans of a trace, which
    arrive together, then sit on a few pages of the primary key index instead of one page
    each (this halves SQLite's cost per span). ``prefix`` is ``trace_prefix(trace_id)``,
    for callers that map many spans of one trace.
    """
    first = prefix if prefix is not None else trace_prefix(trace_id)
    return _format_uuid(first + _hash(f"span:{trace_id}:{span_id}")[:8], 5)


# -- fields ---------------------------------------------------------------------------------


def parse_event_type(value: object, field: str = "event_type") -> EventType:
    """``session|model|tool|chain``, case-insensitive (one HoneyHive client lower-cases)."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in EVENT_TYPES:
            return EventType(lowered)
    raise InvalidInput(field, "must be one of session, model, tool, chain")


def clip_text(value: str, limit: int) -> str:
    """Text fit for any column: no NUL (PostgreSQL text cannot hold it), at most ``limit``."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value[:limit]


def parse_text(value: object, field: str, *, default: str, limit: int) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    if len(value) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters")
    return clip_text(value, limit) or default


def parse_error(value: object, field: str = "error") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string or null")
    return clip_text(value, MAX_ERROR)


def parse_bucket(value: object, field: str) -> dict[str, Any]:
    """One of the seven JSON buckets: an object, or null for empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(field, "must be a JSON object")
    return value


def parse_ms(value: object, field: str) -> float | None:
    """A unix-millisecond time or a duration: a finite number; None when absent or not a number.

    HoneyHive's rule is that a non-numeric time means "now", so callers treat None that way.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    if not 0 <= number <= MAX_MS:
        raise InvalidInput(field, "is out of range")
    return number


def resolve_times(
    start: float | None, end: float | None, duration: float | None, now: float
) -> tuple[float, float, float]:
    """Fill the missing ones of start, end and duration (ms); start defaults to ``now``."""
    if start is None:
        if end is not None and duration is not None:
            start = max(0.0, end - duration)
        else:
            start = end if end is not None else now
    if end is None:
        end = start + (duration or 0.0)
    if duration is None:
        duration = end - start
    return start, end, max(0.0, duration)


# -- usage ----------------------------------------------------------------------------------

# Where a tokens or cost figure may sit in an event's metadata (HoneyHive's own names first).
PROMPT_TOKEN_KEYS = ("prompt_tokens", "input_tokens")
COMPLETION_TOKEN_KEYS = ("completion_tokens", "output_tokens")
TOTAL_TOKEN_KEYS = ("total_tokens",)
COST_KEYS = ("cost", "total_cost")


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and 0 < len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _first(sources: tuple[dict[str, Any], ...], keys: tuple[str, ...]) -> float | None:
    for source in sources:
        for key in keys:
            found = _number(source.get(key))
            if found is not None:
                return found
    return None


def _tokens(value: float | None) -> int | None:
    return None if value is None or value >= 2**62 else round(value)


# Any of these keys in metadata or metrics may report usage; most events hold none of them.
_USAGE_KEYS = frozenset(
    (*PROMPT_TOKEN_KEYS, *COMPLETION_TOKEN_KEYS, *TOTAL_TOKEN_KEYS, *COST_KEYS, "usage")
)
NO_USAGE = Usage()


def usage_of(event: TraceEvent) -> Usage:
    """Tokens and cost from metadata (or metrics, or a ``usage`` object) of the event."""
    if event.metadata.keys().isdisjoint(_USAGE_KEYS) and event.metrics.keys().isdisjoint(
        _USAGE_KEYS
    ):
        return NO_USAGE
    sources: tuple[dict[str, Any], ...] = (event.metadata, event.metrics)
    usage = event.metadata.get("usage")
    if isinstance(usage, dict):
        sources = (*sources, usage)
    prompt = _tokens(_first(sources, PROMPT_TOKEN_KEYS))
    completion = _tokens(_first(sources, COMPLETION_TOKEN_KEYS))
    total = _tokens(_first(sources, TOTAL_TOKEN_KEYS))
    if total is None and (prompt is not None or completion is not None):
        total = (prompt or 0) + (completion or 0)
    return Usage(prompt, completion, total, _first(sources, COST_KEYS))


# -- nested keys ----------------------------------------------------------------------------


def unflatten(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``[("a.b", 1), ("a.c.0", "x")]`` → ``{"a": {"b": 1, "c": ["x"]}}``.

    A level whose keys are exactly 0..n-1 becomes a list. Values are never written into: when
    ``a`` is a value and ``a.b`` arrives, ``a.b`` is kept whole at the top level; when ``a.b``
    came first, the value of ``a`` goes under the key ``""`` of ``a``.
    """
    root: dict[str, Any] = {}
    made: set[int] | None = None  # the dicts built here, as opposed to values that are dicts
    for key, value in pairs:
        if "." not in key:
            existing = root.get(key)
            if made is not None and type(existing) is dict and id(existing) in made:
                existing[""] = value
            else:
                root[key] = value
            continue
        if made is None:
            made = {id(root)}
        parts = key.split(".")
        node: dict[str, Any] | None = root
        for part in parts[:-1]:
            assert node is not None
            child = node.get(part)
            if child is None:
                child = node[part] = {}
                made.add(id(child))
            elif type(child) is not dict or id(child) not in made:
                node = None
                break
            node = child
        if node is None:
            root[key] = value
            continue
        last = parts[-1]
        existing = node.get(last)
        if type(existing) is dict and id(existing) in made:
            existing[""] = value
        else:
            node[last] = value
    return root if made is None else _listify(root, made)


def unflatten_value(pairs: list[tuple[str, Any]]) -> dict[str, Any] | list[Any]:
    """``unflatten``, where the top level too becomes a list when its keys are 0..n-1."""
    return _as_list(unflatten(pairs))


def _listify(node: dict[str, Any], made: set[int]) -> dict[str, Any]:
    for key, value in node.items():
        if type(value) is dict and id(value) in made:
            node[key] = _as_list(_listify(value, made))
    return node


# "0", "1", … and the sets of the first n of them: list levels are matched by set equality.
_INDEXES = tuple(str(index) for index in range(64))
_INDEX_SETS = tuple(frozenset(_INDEXES[:count]) for count in range(len(_INDEXES) + 1))


def _as_list(node: dict[str, Any]) -> dict[str, Any] | list[Any]:
    count = len(node)
    if not count:
        return node
    if count < len(_INDEX_SETS):
        if node.keys() == _INDEX_SETS[count]:
            return [node[index] for index in _INDEXES[:count]]
        return node
    if all(str(index) in node for index in range(count)):
        return [node[str(index)] for index in range(count)]
    return node
