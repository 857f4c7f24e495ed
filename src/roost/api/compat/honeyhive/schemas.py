"""HoneyHive wire vocabulary: limits, the model-event fields, the export request.

Ingest bodies are parsed by hand in ``translate.py`` (HoneyHive sends objects that may be JSON
strings, flat or wrapped bodies, floats where ints are expected); only the export query,
served through FastAPI, has a model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# HoneyHive's accounts have organisations and workspaces; a Roost project is both. The SDK
# requires the ids to be strings and never reads them again.
ORG_ID = "roost"
WORKSPACE_ID = "roost"

MAX_BATCH_EVENTS = 10_000
EXPORT_DEFAULT_LIMIT = 1000
EXPORT_MAX_LIMIT = 7500  # the SDK's documented maximum

# /events/model: where each model field goes.
MODEL_CONFIG_FIELDS = (
    "model",
    "provider",
    "hyperparameters",
    "template",
    "tools",
    "tool_choice",
    "response_format",
)
MODEL_INPUT_FIELDS = ("messages", "template_inputs")


class ExportFilter(BaseModel):
    """One condition, as the SDK's ``EventFilter`` sends it."""

    model_config = ConfigDict(extra="ignore")

    field: str = Field(max_length=255, examples=["event_type"])
    operator: str = Field(
        max_length=32,
        description="is, is not, contains, not contains, greater than, less than, "
        "greater than or equal, less than or equal, exists, not exists",
    )
    value: str | float | bool | None = None
    type: str | None = Field(default=None, max_length=32)


class ExportRequest(BaseModel):
    """``POST /v1/events/export`` and ``/v1/events/search``."""

    model_config = ConfigDict(extra="ignore")

    filters: list[ExportFilter] = Field(default_factory=list, max_length=100)
    # {"$gte": …, "$lte": …} (export) or {"start_time": …, "end_time": …} (search): ISO 8601
    # strings or unix milliseconds.
    dateRange: dict[str, Any] | None = None
    limit: int = Field(default=EXPORT_DEFAULT_LIMIT, ge=1, le=EXPORT_MAX_LIMIT)
    page: int = Field(default=1, ge=1, le=1_000_000)
    projections: list[str] | None = None
    project: str | None = None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` written in place, for an OpenAPI body.

    The export route parses its body itself (whatever the Content-Type), so FastAPI does not
    list the model among the document's components for a ``$ref`` to point at.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(definitions[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
