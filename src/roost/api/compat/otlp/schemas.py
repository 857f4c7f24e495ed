"""OTLP/HTTP trace requests, protobuf or JSON, read into plain ``Span``s.

Protobuf is decoded by the ``opentelemetry-proto`` classes (upb, in C). JSON is read by hand
because the clients that matter deviate from strict OTLP/JSON (API.md §5.9): the HoneyHive SDK
sends ``parentSpanId: null``, enum *names* for ``kind`` and ``status.code``, 64-bit integers
and NaN/Infinity as strings, and empty resources. Ids are hex, as the spec says, but a base64
id (what a generic protobuf-to-JSON printer emits) is accepted too.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from roost.domain.errors import InvalidInput

STATUS_ERROR = 2
_STATUS_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_SPAN_KINDS = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}
# How deep an attribute value (arrays in maps in arrays …) may nest.
MAX_VALUE_DEPTH = 32


# Structs, not dataclasses: built in C, one per span, and left out of the garbage collector's
# work (gc=False: a span only refers to the decoded values below it, never back to itself).


class SpanEvent(msgspec.Struct, gc=False):
    name: str
    time_ns: int
    attributes: dict[str, Any]


class Span(msgspec.Struct, gc=False):
    trace_id: str  # lower-case hex
    span_id: str
    parent_span_id: str  # "" for a root span
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    resource: dict[str, Any]
    status_code: int = 0
    status_message: str = ""
    events: list[SpanEvent] = []


@dataclass(slots=True)
class Decoded:
    spans: list[Span] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # why each refused span was refused


class Undecodable(InvalidInput):
    """The body is not an OTLP trace request in the declared encoding (400)."""

    def __init__(self, message: str) -> None:
        super().__init__("body", message)


# -- protobuf -------------------------------------------------------------------------------


def decode_protobuf(body: bytes) -> Decoded:
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except DecodeError:
        raise Undecodable("is not an OTLP ExportTraceServiceRequest in protobuf") from None
    decoded = Decoded()
    for resource_spans in request.resource_spans:
        resource = _proto_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                trace_id, span_id = span.trace_id, span.span_id
                if (
                    len(trace_id) != 16
                    or len(span_id) != 8
                    or not any(trace_id)
                    or not any(span_id)
                ):
                    decoded.rejected.append(f"span {span.name!r}: trace or span id missing")
                    continue
                status = span.status
                decoded.spans.append(
                    Span(
                        trace_id=trace_id.hex(),
                        span_id=span_id.hex(),
                        # Absent or all zeros: a root span.
                        parent_span_id=(
                            span.parent_span_id.hex() if any(span.parent_span_id) else ""
                        ),
                        name=span.name,
                        kind=span.kind,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes=_proto_attributes(span.attributes),
                        resource=resource,
                        status_code=status.code,
                        status_message=status.message,
                        events=[
                            SpanEvent(
                                event.name,
                                event.time_unix_nano,
                                _proto_attributes(event.attributes),
                            )
                            for event in span.events
                        ],
                    )
                )
    return decoded


def _proto_attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _proto_value(pair.value, 0) for pair in pairs}


def _proto_value(value: AnyValue, depth: int) -> Any:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if depth >= MAX_VALUE_DEPTH:
        return None
    if kind == "array_value":
        return [_proto_value(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: _proto_value(pair.value, depth + 1) for pair in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def protobuf_response(rejected: int, message: str) -> bytes:
    answer = ExportTraceServiceResponse()
    if rejected:
        answer.partial_success.rejected_spans = rejected
        answer.partial_success.error_message = message
    return answer.SerializeToString()


# -- JSON -----------------------------------------------------------------------------------


# The usual OTLP/JSON, typed for msgspec, which decodes and checks it in C. A body it refuses
# (enum names where it wants either, snake_case keys, a number as a string where only the
# standard allows it …) goes through the lenient reader below instead, so the two never
# disagree on what they both accept.


class _Array(msgspec.Struct, gc=False):
    values: list[_Value] = []


class _KvList(msgspec.Struct, gc=False):
    values: list[_KeyValue] = []


class _Value(msgspec.Struct, gc=False):  # OTLP/JSON's camelCase names
    stringValue: str | None = None
    intValue: int | str | None = None
    doubleValue: float | str | None = None
    boolValue: bool | None = None
    arrayValue: _Array | None = None
    kvlistValue: _KvList | None = None
    bytesValue: str | None = None


class _KeyValue(msgspec.Struct, gc=False):
    key: str
    value: _Value | None = None


class _Status(msgspec.Struct, gc=False):
    code: int | str = 0
    message: str = ""


class _Event(msgspec.Struct, gc=False):
    name: str = ""
    timeUnixNano: int | str = 0
    attributes: list[_KeyValue] = []


class _Span(msgspec.Struct, gc=False):
    traceId: str
    spanId: str
    parentSpanId: str | None = None
    name: str = ""
    kind: int | str = 0
    startTimeUnixNano: int | str = 0
    endTimeUnixNano: int | str = 0
    attributes: list[_KeyValue] = []
    events: list[_Event] = []
    status: _Status | None = None


class _ScopeSpans(msgspec.Struct, gc=False):
    spans: list[_Span] = []


class _Resource(msgspec.Struct, gc=False):
    attributes: list[_KeyValue] = []


class _ResourceSpans(msgspec.Struct, gc=False):
    resource: _Resource | None = None
    scopeSpans: list[_ScopeSpans] = []


class _Request(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    resourceSpans: list[_ResourceSpans] = []


_request_decoder = msgspec.json.Decoder(_Request)


def decode_json(body: bytes) -> Decoded:
    # snake_case keys (a protobuf JSON printer's other spelling) only the lenient reader knows.
    if b"_unix_nano" not in body:
        try:
            request = _request_decoder.decode(body)
        except msgspec.MsgspecError:
            pass
        else:
            return _from_structs(request)
    return _decode_json_leniently(body)


def _from_structs(request: _Request) -> Decoded:
    decoded = Decoded()
    spans, rejected = decoded.spans, decoded.rejected
    # The spans of a batch share their trace ids and name the same parents: read each once.
    trace_ids: dict[str, str | None] = {}
    parent_ids: dict[str, str | None] = {}
    for resource_spans in request.resourceSpans:
        resource = (
            _struct_attributes(resource_spans.resource.attributes)
            if resource_spans.resource
            else {}
        )
        for scope_spans in resource_spans.scopeSpans:
            for span in scope_spans.spans:
                trace_id = trace_ids.get(span.traceId, _UNSEEN)
                if trace_id is _UNSEEN:
                    trace_id = trace_ids[span.traceId] = _json_id(span.traceId, 16)
                span_id = _json_id(span.spanId, 8)
                parent_id: str | None = ""
                if span.parentSpanId:
                    parent_id = parent_ids.get(span.parentSpanId, _UNSEEN)
                    if parent_id is _UNSEEN:
                        parent_id = parent_ids[span.parentSpanId] = _json_id(span.parentSpanId, 8)
                if not trace_id or not span_id or parent_id is None:
                    rejected.append(f"span {span.name!r}: an id is missing or malformed")
                    continue
                status = span.status
                kind = span.kind
                spans.append(
                    Span(
                        trace_id,
                        span_id,
                        parent_id,
                        span.name,
                        kind if type(kind) is int else _enum(kind, _SPAN_KINDS),
                        _json_int(span.startTimeUnixNano),
                        _json_int(span.endTimeUnixNano),
                        _struct_attributes(span.attributes),
                        resource,
                        _enum(status.code, _STATUS_CODES) if status else 0,
                        status.message if status else "",
                        [
                            SpanEvent(
                                event.name,
                                _json_int(event.timeUnixNano),
                                _struct_attributes(event.attributes),
                            )
                            for event in span.events
                        ]
                        if span.events
                        else [],
                    )
                )
    return decoded


_UNSEEN: Any = object()


def _struct_attributes(pairs: list[_KeyValue]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        value = pair.value
        if value is None:
            found[pair.key] = None
        elif value.stringValue is not None:  # most attributes are strings
            found[pair.key] = value.stringValue
        else:
            found[pair.key] = _struct_value(value, 0)
    return found


def _struct_value(value: _Value, depth: int) -> Any:
    if value.stringValue is not None:
        return value.stringValue
    whole = value.intValue
    if whole is not None:
        # An int as it is; a string (OTLP/JSON's usual spelling) as the lenient reader reads it.
        return whole if type(whole) is int else _json_value({"intValue": whole}, depth)
    double = value.doubleValue
    if double is not None:
        return double if type(double) is float else _json_value({"doubleValue": double}, depth)
    if value.boolValue is not None:
        return value.boolValue
    if depth >= MAX_VALUE_DEPTH:
        return None
    if value.arrayValue is not None:
        return [_struct_value(item, depth + 1) for item in value.arrayValue.values]
    if value.kvlistValue is not None:
        return {
            pair.key: _struct_value(pair.value, depth + 1) if pair.value else None
            for pair in value.kvlistValue.values
        }
    return value.bytesValue


def _decode_json_leniently(body: bytes) -> Decoded:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Undecodable("is not valid JSON") from None
    if not isinstance(document, dict):
        raise Undecodable("must be an OTLP ExportTraceServiceRequest object")
    decoded = Decoded()
    for resource_spans in _list(document, "resourceSpans", "resource_spans"):
        if not isinstance(resource_spans, dict):
            raise Undecodable("resourceSpans must hold objects")
        resource = _json_attributes(_object(resource_spans, "resource").get("attributes"))
        for scope_spans in _list(resource_spans, "scopeSpans", "scope_spans"):
            if not isinstance(scope_spans, dict):
                raise Undecodable("scopeSpans must hold objects")
            for span in _list(scope_spans, "spans"):
                try:
                    decoded.spans.append(_json_span(span, resource))
                except _BadSpan as exc:
                    decoded.rejected.append(str(exc))
    return decoded


class _BadSpan(Exception):
    pass


def _get(item: dict[str, Any], camel: str, snake: str | None = None) -> Any:
    value = item.get(camel)
    if value is None and snake is not None:
        value = item.get(snake)
    return value


def _list(item: dict[str, Any], camel: str, snake: str | None = None) -> list[Any]:
    value = _get(item, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Undecodable(f"{camel} must be a list")
    return value


def _object(item: dict[str, Any], name: str) -> dict[str, Any]:
    value = item.get(name)
    return value if isinstance(value, dict) else {}


def _json_span(span: object, resource: dict[str, Any]) -> Span:
    if not isinstance(span, dict):
        raise _BadSpan("a span must be an object")
    name = _text(span.get("name"))
    trace_id = _json_id(_get(span, "traceId", "trace_id"), 16)
    span_id = _json_id(_get(span, "spanId", "span_id"), 8)
    if not trace_id or not span_id:
        raise _BadSpan(f"span {name!r}: trace or span id missing or malformed")
    parent = _get(span, "parentSpanId", "parent_span_id")
    parent_id = _json_id(parent, 8) if parent else ""
    if parent_id is None:
        raise _BadSpan(f"span {name!r}: parentSpanId is malformed")
    status = _object(span, "status")
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent_id,
        name=name,
        kind=_enum(span.get("kind"), _SPAN_KINDS),
        start_ns=_json_int(_get(span, "startTimeUnixNano", "start_time_unix_nano")),
        end_ns=_json_int(_get(span, "endTimeUnixNano", "end_time_unix_nano")),
        attributes=_json_attributes(span.get("attributes")),
        resource=resource,
        status_code=_enum(status.get("code"), _STATUS_CODES),
        status_message=_text(status.get("message")),
        events=[
            SpanEvent(
                _text(event.get("name")),
                _json_int(_get(event, "timeUnixNano", "time_unix_nano")),
                _json_attributes(event.get("attributes")),
            )
            for event in span.get("events") or ()
            if isinstance(event, dict)
        ],
    )


def _json_id(value: object, size: int) -> str | None:
    """An id as lower-case hex, "" when all zeros (no id), None when malformed.

    Hex as OTLP/JSON says, or base64 as protobuf's generic JSON printer writes it.
    """
    if not isinstance(value, str):
        return None
    raw = b""
    if len(value) == 2 * size:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
    if len(raw) != size:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != size:
            return None
    return raw.hex() if any(raw) else ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_int(value: object) -> int:
    if type(value) is str:  # OTLP/JSON's spelling of a 64-bit integer
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 20 else 0
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return 0


def _enum(value: object, names: dict[str, int]) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return names.get(value, 0)
    return 0


def _json_attributes(pairs: object) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if isinstance(pairs, list):
        for pair in pairs:
            if type(pair) is not dict:
                continue
            key, value = pair.get("key"), pair.get("value")
            if type(key) is not str:
                continue
            # Most attributes are strings: take them without the general walk.
            text = value.get("stringValue") if type(value) is dict else None
            found[key] = text if type(text) is str else _json_value(value, 0)
    return found


_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _json_value(value: object, depth: int) -> Any:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        found = value["stringValue"]
        return found if isinstance(found, str) else None
    if "intValue" in value:
        number = value["intValue"]
        if isinstance(number, str):
            try:
                return int(number)
            except ValueError:
                return None
        return number if isinstance(number, int) and not isinstance(number, bool) else None
    if "doubleValue" in value:
        number = value["doubleValue"]
        if isinstance(number, str):
            if number in _SPECIAL_FLOATS:
                return _SPECIAL_FLOATS[number]
            try:
                return float(number)
            except ValueError:
                return None
        return float(number) if isinstance(number, int | float) else None
    if "boolValue" in value:
        flag = value["boolValue"]
        return flag if isinstance(flag, bool) else None
    if depth >= MAX_VALUE_DEPTH:
        return None
    if "arrayValue" in value:
        items = _object(value, "arrayValue").get("values")
        return [_json_value(item, depth + 1) for item in items] if isinstance(items, list) else []
    if "kvlistValue" in value:
        items = _object(value, "kvlistValue").get("values")
        pairs: dict[str, Any] = {}
        if isinstance(items, list):
            for pair in items:
                if isinstance(pair, dict) and isinstance(pair.get("key"), str):
                    pairs[pair["key"]] = _json_value(pair.get("value"), depth + 1)
        return pairs
    if "bytesValue" in value:
        raw = value["bytesValue"]
        return raw if isinstance(raw, str) else None
    return None
