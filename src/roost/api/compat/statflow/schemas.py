"""StatFlow wire models for the non-hot routes (ingest bodies are validated by hand in domain)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

MAX_ID = 2**63 - 1


class ApiKeyCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: StrictStr | None = Field(default=None, max_length=200)
    scopes: list[StrictStr] | StrictStr = Field(default_factory=lambda: ["read", "write"])


class AnnotationCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(max_length=2000)
    # ISO 8601 or unix seconds; parsed by roost.domain.times like every other time.
    time: StrictStr | StrictFloat | StrictInt | None = None
    stat_ids: list[StrictInt] = Field(default_factory=list, max_length=1000)
