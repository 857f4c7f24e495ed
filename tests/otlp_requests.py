"""OTLP trace requests for the tests, built with the ``opentelemetry-proto`` classes.

``span(...)`` describes one span with plain Python attributes; ``protobuf_body`` encodes
spans as an ExportTraceServiceRequest and ``json_body`` as OTLP/JSON in the shape the
HoneyHive SDK sends (enum names, ``parentSpanId: null``, 64-bit integers as strings).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

__all__ = ["SpanSpec", "json_body", "new_span_id", "new_trace_id", "protobuf_body", "span"]

START_NS = 1_795_000_000_000_000_000


def new_trace_id() -> str:
    return os.urandom(16).hex()


def new_span_id() -> str:
    return os.urandom(8).hex()


@dataclass
class SpanSpec:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    start_ns: int = START_NS
    end_ns: int = START_NS + 5_000_000
    error: str | None = None  # sets status ERROR with this message
    exception: tuple[str, str] | None = None  # (type, message) as an "exception" event


def span(name: str, trace_id: str, parent: str | None = None, **attributes: Any) -> SpanSpec:
    return SpanSpec(name, trace_id, new_span_id(), parent, dict(attributes))


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list | tuple):
        found = AnyValue()
        found.array_value.values.extend(_any_value(item) for item in value)
        return found
    if isinstance(value, dict):
        found = AnyValue()
        found.kvlist_value.values.extend(
            KeyValue(key=key, value=_any_value(item)) for key, item in value.items()
        )
        return found
    return AnyValue(string_value=str(value))


def protobuf_body(spans: list[SpanSpec], resource: dict[str, Any] | None = None) -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for key, value in (resource or {}).items():
        resource_spans.resource.attributes.add(key=key, value=_any_value(value))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "roost-tests"
    for spec in spans:
        out = scope_spans.spans.add()
        out.trace_id = bytes.fromhex(spec.trace_id)
        out.span_id = bytes.fromhex(spec.span_id)
        if spec.parent_span_id:
            out.parent_span_id = bytes.fromhex(spec.parent_span_id)
        out.name = spec.name
        out.kind = ProtoSpan.SPAN_KIND_INTERNAL
        out.start_time_unix_nano = spec.start_ns
        out.end_time_unix_nano = spec.end_ns
        for key, value in spec.attributes.items():
            out.attributes.add(key=key, value=_any_value(value))
        if spec.error is not None:
            out.status.code = Status.STATUS_CODE_ERROR
            out.status.message = spec.error
        if spec.exception is not None:
            event = out.events.add(name="exception", time_unix_nano=spec.end_ns)
            event.attributes.add(key="exception.type", value=_any_value(spec.exception[0]))
            event.attributes.add(key="exception.message", value=_any_value(spec.exception[1]))
    return request.SerializeToString()


def _json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # 64-bit integers as strings, as the SDK does
    if isinstance(value, float):
        if value != value:
            return {"doubleValue": "NaN"}
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_json_value(item) for item in value]}}
    if isinstance(value, dict):
        pairs = [{"key": key, "value": _json_value(item)} for key, item in value.items()]
        return {"kvlistValue": {"values": pairs}}
    return {"stringValue": str(value)}


def json_body(spans: list[SpanSpec], resource: dict[str, Any] | None = None) -> bytes:
    """OTLP/JSON as the HoneyHive SDK writes it (API.md §5.9's deviations included)."""
    out_spans = []
    for spec in spans:
        status: dict[str, Any] = {"code": "STATUS_CODE_UNSET"}
        if spec.error is not None:
            status = {"code": "STATUS_CODE_ERROR", "message": spec.error}
        events = []
        if spec.exception is not None:
            events.append(
                {
                    "timeUnixNano": str(spec.end_ns),
                    "name": "exception",
                    "attributes": [
                        {"key": "exception.type", "value": _json_value(spec.exception[0])},
                        {"key": "exception.message", "value": _json_value(spec.exception[1])},
                    ],
                }
            )
        out_spans.append(
            {
                "traceId": spec.trace_id,
                "spanId": spec.span_id,
                "parentSpanId": spec.parent_span_id,  # null for a root, not omitted
                "name": spec.name,
                "kind": "SPAN_KIND_INTERNAL",
                "startTimeUnixNano": str(spec.start_ns),
                "endTimeUnixNano": str(spec.end_ns),
                "attributes": [
                    {"key": key, "value": _json_value(value)}
                    for key, value in spec.attributes.items()
                ],
                "events": events,
                "status": status,
            }
        )
    resource_json: dict[str, Any] = {}
    if resource:
        resource_json = {
            "attributes": [{"key": k, "value": _json_value(v)} for k, v in resource.items()]
        }
    document = {
        "resourceSpans": [
            {
                "resource": resource_json,
                "scopeSpans": [{"scope": {"name": "honeyhive.1"}, "spans": out_spans}],
            }
        ]
    }
    return orjson.dumps(document)
