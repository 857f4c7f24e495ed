"""Spans → trace events (API.md §5.9): HoneyHive's attributes, OpenInference, OTel GenAI.

Precedence, field by field: what the HoneyHive SDK set explicitly (``honeyhive_*``) wins over
what a convention implies (OpenInference ``llm.*``/``input.value``, OTel ``gen_ai.*``), which
wins over defaults. Attributes nothing claims go to ``metadata`` under their own key, as
HoneyHive does.

Ids: an event's id is derived from (trace id, span id), so re-delivery overwrites and a child
names its parent's id before the parent arrives. A span that names no session belongs to a
session derived from its trace id, so plain OpenTelemetry traces become sessions too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

from roost.api.compat.otlp.schemas import STATUS_ERROR, Span
from roost.domain.traces import (
    BUCKETS,
    EVENT_TYPES,
    MAX_ERROR,
    MAX_NAME,
    MAX_SOURCE,
    UNKNOWN,
    EventType,
    TraceEvent,
    clip_text,
    external_id,
    parse_uuid,
    span_event_id,
    trace_prefix,
    trace_session_id,
    unflatten,
    unflatten_value,
)

SESSION_KEYS = (
    "honeyhive.session_id",
    "traceloop.association.properties.session_id",
    "session.id",  # OpenInference and OTel semantic conventions
)
SOURCE_KEYS = ("honeyhive.source", "traceloop.association.properties.source")
# honeyhive.* keys that steer ingest and are not kept.
CONTROL_KEYS = frozenset(
    {
        "honeyhive.session_id",
        "honeyhive.project",
        "honeyhive.source",
        "honeyhive.parent_id",
        "honeyhive.session_name",
        "honeyhive.session_auto_create",
        "honeyhive_event_type",
        "honeyhive_event_name",
        "honeyhive_duration_ms",
        "honeyhive_error",
        "session.id",
    }
)
_BUCKET_PREFIX = "honeyhive_"
_BUCKETS = frozenset(BUCKETS)

# OpenInference span kinds, as the HoneyHive SDK maps them.
_OPENINFERENCE_TYPES = {"LLM": EventType.MODEL, "CHAIN": EventType.CHAIN, "AGENT": EventType.CHAIN}
# OTel GenAI operations.
_GENAI_TYPES = {
    "chat": EventType.MODEL,
    "text_completion": EventType.MODEL,
    "generate_content": EventType.MODEL,
    "embeddings": EventType.MODEL,
    "execute_tool": EventType.TOOL,
    "invoke_agent": EventType.CHAIN,
    "create_agent": EventType.CHAIN,
    "invoke_workflow": EventType.CHAIN,
}

# Single attributes a convention maps to a place in a bucket: (bucket, key).
_PLACES: dict[str, tuple[str, str]] = {
    # OpenInference
    "llm.model_name": ("config", "model"),
    "llm.provider": ("config", "provider"),
    "llm.system": ("config", "provider"),
    "llm.token_count.prompt": ("metadata", "prompt_tokens"),
    "llm.token_count.completion": ("metadata", "completion_tokens"),
    "llm.token_count.total": ("metadata", "total_tokens"),
    "llm.cost.total": ("metadata", "cost"),
    "llm.cost.prompt": ("metadata", "prompt_cost"),
    "llm.cost.completion": ("metadata", "completion_cost"),
    "input.value": ("inputs", "input"),
    "output.value": ("outputs", "output"),
    "user.id": ("user_properties", "user_id"),
    # OTel GenAI (and the older names OpenLLMetry still sends)
    "gen_ai.request.model": ("config", "model"),
    "gen_ai.response.model": ("metadata", "response_model"),
    "gen_ai.system": ("config", "provider"),
    "gen_ai.provider.name": ("config", "provider"),
    "gen_ai.usage.input_tokens": ("metadata", "prompt_tokens"),
    "gen_ai.usage.prompt_tokens": ("metadata", "prompt_tokens"),
    "gen_ai.usage.output_tokens": ("metadata", "completion_tokens"),
    "gen_ai.usage.completion_tokens": ("metadata", "completion_tokens"),
    "gen_ai.usage.total_tokens": ("metadata", "total_tokens"),
    "llm.usage.total_tokens": ("metadata", "total_tokens"),
    "gen_ai.usage.cost": ("metadata", "cost"),
    "gen_ai.input.messages": ("inputs", "messages"),
    "gen_ai.output.messages": ("outputs", "messages"),
    "gen_ai.system_instructions": ("inputs", "system_instructions"),
    # HoneyHive's exception details
    "honeyhive_error_type": ("metadata", "error_type"),
}
# Attribute families unflattened into one key: prefix → (bucket, key).
_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("llm.input_messages.", "inputs", "messages"),
    ("llm.output_messages.", "outputs", "messages"),
    ("gen_ai.prompt.", "inputs", "messages"),
    ("gen_ai.completion.", "outputs", "messages"),
    ("gen_ai.request.", "config", "hyperparameters"),
)
MAX_SPAN_EVENTS = 32


# How each attribute key is handled, classified once per distinct key (spans of one service
# repeat the same keys, and the checks cost more than the copying).
_SKIP, _BUCKET, _PLACE, _FAMILY, _META = range(5)
_routes: dict[str, tuple[Any, ...]] = {}
MAX_ROUTES = 10_000


def _route(key: str) -> tuple[Any, ...]:
    found = _routes.get(key)
    if found is None:
        found = _classify(key)
        if len(_routes) >= MAX_ROUTES:
            _routes.clear()
        _routes[key] = found
    return found


def _classify(key: str) -> tuple[Any, ...]:
    if key in CONTROL_KEYS or key.startswith("traceloop.association.properties."):
        return (_SKIP,)
    if key.startswith(_BUCKET_PREFIX):
        bucket, dot, rest = key[len(_BUCKET_PREFIX) :].partition(".")
        if bucket in _BUCKETS:
            return (_BUCKET, bucket, rest if dot else "value")
    place = _PLACES.get(key)
    if place is not None:
        return (_PLACE, *place)
    if key.startswith(("llm.", "gen_ai.")):
        for prefix, bucket, name in _FAMILIES:
            if key.startswith(prefix):
                return (_FAMILY, bucket, name, key[len(prefix) :])
    return (_META,)


# (name in the bucket, attribute key) pairs, in the attributes' order.
Names = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where the attributes of one set of keys go, worked out once per key set: the spans of
    one instrumented function carry the same keys in the same order, span after span."""

    meta: tuple[str, ...]  # kept in metadata under their own key
    buckets: tuple[tuple[str, bool, Names], ...]  # (bucket, any name nested?, names)
    families: tuple[tuple[str, str, Names], ...]  # (bucket, key, names below the prefix)
    implied: tuple[tuple[str, str, str], ...]  # (bucket, key, attribute key)


_plans: dict[tuple[str, ...], _Plan] = {}
MAX_PLANS = 1_000


def _plan(keys: tuple[str, ...]) -> _Plan:
    meta: list[str] = []
    buckets: dict[str, list[tuple[str, str]]] = {}
    families: dict[tuple[str, str], list[tuple[str, str]]] = {}
    implied: list[tuple[str, str, str]] = []
    for key in keys:
        route = _route(key)
        kind = route[0]
        if kind == _BUCKET:
            buckets.setdefault(route[1], []).append((route[2], key))
        elif kind == _META:
            meta.append(key)
        elif kind == _PLACE:
            implied.append((route[1], route[2], key))
        elif kind == _FAMILY:
            families.setdefault((route[1], route[2]), []).append((route[3], key))
    plan = _Plan(
        tuple(meta),
        tuple(
            (bucket, any("." in name for name, _ in names), tuple(names))
            for bucket, names in buckets.items()
        ),
        tuple((bucket, name, tuple(names)) for (bucket, name), names in families.items()),
        tuple(implied),
    )
    if len(_plans) >= MAX_PLANS:
        _plans.clear()
    _plans[keys] = plan
    return plan


class SpanMapper:
    """Maps the spans of one request to events.

    Ids derived once are remembered for the request: a parent's id is derived again for
    every child, and all spans of a session name the same session.
    """

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._event_ids: dict[tuple[str, str], str] = {}
        self._prefixes: dict[str, bytes] = {}
        self._sessions: dict[str, str] = {}

    def event_id(self, trace_id: str, span_id: str) -> str:
        key = (trace_id, span_id)
        found = self._event_ids.get(key)
        if found is None:
            prefix = self._prefixes.get(trace_id)
            if prefix is None:
                prefix = self._prefixes[trace_id] = trace_prefix(trace_id)
            found = self._event_ids[key] = span_event_id(trace_id, span_id, prefix)
        return found

    def session_id(self, value: str) -> str:
        found = self._sessions.get(value)
        if found is None:
            found = self._sessions[value] = external_id(value)
        return found

    def event(self, span: Span) -> TraceEvent:
        attrs = span.attributes
        session_value = _first_text(attrs, SESSION_KEYS)
        if session_value is not None:
            session_id = self.session_id(session_value)
        else:
            session_id = trace_session_id(span.trace_id)
        resource = span.resource
        service_name = resource.get("service.name") if resource else None
        # The name of the session, if it has to be created for this span.
        session_name = attrs.get("honeyhive.session_name") or service_name
        if span.parent_span_id:
            parent_id = self.event_id(span.trace_id, span.parent_span_id)
        else:
            parent_id = parse_uuid(attrs.get("honeyhive.parent_id")) or session_id

        keys = tuple(attrs)
        plan = _plans.get(keys) or _plan(keys)
        metadata = {key: attrs[key] for key in plan.meta}
        buckets: dict[str, dict[str, Any]] = {
            "inputs": {},
            "outputs": {},
            "config": {},
            "metadata": metadata,
            "metrics": {},
            "feedback": {},
            "user_properties": {},
        }
        # What the HoneyHive SDK set explicitly wins over what a convention implies.
        for bucket, nested, names in plan.buckets:
            pairs = [(name, _decoded(attrs[key])) for name, key in names]
            buckets[bucket].update(unflatten(pairs) if nested else pairs)
        for bucket, name, names in plan.families:
            found = unflatten_value([(rest, _decoded(attrs[key])) for rest, key in names])
            buckets[bucket].setdefault(name, found if bucket == "config" else _messages(found))
        for bucket, name, key in plan.implied:
            buckets[bucket].setdefault(name, _decoded(attrs[key]))
        if "llm.invocation_parameters" in attrs:
            _add_invocation_parameters(buckets, attrs)
        if resource and "service.name" in resource:
            metadata.setdefault("service.name", service_name)

        start = span.start_ns / 1e6
        end = max(start, span.end_ns / 1e6)
        duration = attrs.get("honeyhive_duration_ms")
        if (type(duration) is not float or not math.isfinite(duration)) and (
            isinstance(duration, bool)
            or not isinstance(duration, int | float)
            or not math.isfinite(duration)
        ):
            duration = end - start
        error = _error(span, metadata)
        event_name = attrs.get("honeyhive_event_name")
        if not isinstance(event_name, str) or not event_name:
            event_name = span.name or UNKNOWN
        source = _first_text(attrs, SOURCE_KEYS) or self.source or UNKNOWN
        return TraceEvent(  # positional: the order of TraceEvent's fields
            self.event_id(span.trace_id, span.span_id),
            session_id,
            parent_id,
            _event_type(attrs),
            clip_text(event_name, MAX_NAME),
            clip_text(source, MAX_SOURCE),
            start,
            end,
            max(0.0, float(duration)),
            clip_text(error, MAX_ERROR) if error is not None else None,
            buckets["inputs"],
            buckets["outputs"],
            buckets["config"],
            metadata,
            buckets["metrics"],
            buckets["feedback"],
            buckets["user_properties"],
            [],
            clip_text(session_name, MAX_NAME) if isinstance(session_name, str) else None,
        )


def spans_to_events(spans: list[Span], *, source: str | None) -> list[TraceEvent]:
    mapper = SpanMapper(source)
    return [mapper.event(span) for span in spans]


_OPENERS = frozenset("{[")
_CLOSERS = frozenset("}]")


def _first_text(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _decoded(value: Any) -> Any:
    """Dict and list arguments arrive as JSON strings; anything else stays as it is."""
    if type(value) is str and value[:1] in _OPENERS and value[-1:] in _CLOSERS:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _messages(found: dict[str, Any] | list[Any]) -> Any:
    """OpenInference nests each message under ``message.``: lift it one level."""
    if isinstance(found, list):
        return [
            item["message"] if isinstance(item, dict) and set(item) == {"message"} else item
            for item in found
        ]
    return found


def _add_invocation_parameters(buckets: dict[str, dict[str, Any]], attrs: dict[str, Any]) -> None:
    params = _decoded(attrs.get("llm.invocation_parameters"))
    if isinstance(params, dict):
        hyper = buckets["config"].setdefault("hyperparameters", {})
        if isinstance(hyper, dict):
            for key, value in params.items():
                hyper.setdefault(key, value)
        buckets["metadata"].pop("llm.invocation_parameters", None)


def _event_type(attrs: dict[str, Any]) -> str:
    explicit = attrs.get("honeyhive_event_type")
    if isinstance(explicit, str) and explicit.lower() in EVENT_TYPES:
        return explicit.lower()
    kind = attrs.get("openinference.span.kind")
    if isinstance(kind, str):
        return _OPENINFERENCE_TYPES.get(kind.upper(), EventType.TOOL)
    operation = attrs.get("gen_ai.operation.name")
    if isinstance(operation, str):
        return _GENAI_TYPES.get(operation, EventType.TOOL)
    return EventType.TOOL


def _error(span: Span, metadata: dict[str, Any]) -> str | None:
    """honeyhive_error, else the status message of a failed span; exceptions go to metadata."""
    if not span.events and not span.status_code and "honeyhive_error" not in span.attributes:
        return None  # the usual span
    exceptions: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for event in span.events:
        if event.name == "exception":
            exceptions.append(
                {
                    "type": event.attributes.get("exception.type"),
                    "message": event.attributes.get("exception.message"),
                    "stacktrace": event.attributes.get("exception.stacktrace"),
                }
            )
        elif len(others) < MAX_SPAN_EVENTS:
            others.append(
                {"name": event.name, "time": event.time_ns / 1e6, "attributes": event.attributes}
            )
    if exceptions:
        metadata.setdefault("exceptions", exceptions[:MAX_SPAN_EVENTS])
    if others:
        metadata.setdefault("span_events", others)
    explicit = span.attributes.get("honeyhive_error")
    if isinstance(explicit, str) and explicit:
        return explicit
    if span.status_code == STATUS_ERROR:
        if span.status_message:
            return span.status_message
        message = exceptions[0]["message"] if exceptions else None
        return message if isinstance(message, str) and message else "error"
    return None
