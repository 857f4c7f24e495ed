"""StatFlow wire models for the non-hot routes (ingest bodies are validated by hand in domain)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

MAX_ID = 2**63 - 1


class ApiKeyCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: StrictStr | None = Field(default=None, max_length=200)
    scopes: list[StrictStr] | StrictStr = Field(default_factory=lambda: ["read", "write"])
    # StatHat ezkey aliases (e.g. the e-mail address old clients send); checked in domain.
    aliases: list[StrictStr] = Field(default_factory=list, max_length=20)


class StatHatImportRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: StrictStr = Field(max_length=200)
    base_url: StrictStr | None = Field(default=None, max_length=500)


class AnnotationCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(max_length=2000)
    # ISO 8601 or unix seconds; parsed by roost.domain.times like every other time.
    time: StrictStr | StrictFloat | StrictInt | None = None
    stat_ids: list[StrictInt] = Field(default_factory=list, max_length=1000)


# -- hot path: msgspec decodes and type-checks a whole batch in C ----------------------------
# These models accept only the plain, common shape. Anything they refuse (a numeric string,
# a null type, a bad item) is re-validated item by item by roost.domain.stats, which accepts
# the lenient forms and names the failing field; so the two paths never disagree.

_FINITE = msgspec.Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)
# The same bound as roost.domain.stats.parse_number: integers must fit in 64 bits.
_INT64 = msgspec.Meta(ge=-(2**63) + 1, le=2**63 - 1)


class IngestItem(msgspec.Struct, gc=False):
    stat: str
    value: Annotated[int, _INT64] | Annotated[float, _FINITE]
    type: Literal["counter", "value"] = "counter"
    t: float | str | None = None


class IngestBatch(msgspec.Struct, gc=False):
    items: list[IngestItem]


ingest_item_decoder = msgspec.json.Decoder(IngestItem)
ingest_batch_decoder = msgspec.json.Decoder(IngestBatch)
