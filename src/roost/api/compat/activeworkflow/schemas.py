"""Bodies of Roost's write endpoints (the original API is read-only, so these are ours)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

MAX_ID = 2**63 - 1
AgentId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


class LinkIn(BaseModel):
    """A data link between two agents of the workflow, by agent id."""

    model_config = ConfigDict(extra="forbid")

    source: AgentId
    receiver: AgentId


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=255)]
    description: Annotated[str | None, Field(max_length=10_000)] = None
    agent_ids: Annotated[list[AgentId], Field(max_length=1000)] = []
    links: Annotated[list[LinkIn], Field(max_length=10_000)] = []
    # Needed only by a user who may write to several projects.
    project_id: AgentId | None = None


class WorkflowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    description: Annotated[str | None, Field(max_length=10_000)] = None
    agent_ids: Annotated[list[AgentId] | None, Field(max_length=1000)] = None
    links: Annotated[list[LinkIn] | None, Field(max_length=10_000)] = None


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: StrictBool
