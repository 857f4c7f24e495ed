"""Alert rules as people write them (``POST|PATCH /api/v1/alerts``, the web form): the common
fields, then each kind's own.

A request is validated whole (a PATCH is merged into the stored rule first), so a rule in the
database always passes these checks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from roost.domain.alerts import AlertKind, RunCondition
from roost.domain.errors import InvalidInput, field_from_location
from roost.domain.times import MINUTE, WEEK, YEAR, parse_duration
from roost.services.alerts import AlertSpec

MAX_ID = 2**63 - 1
MAX_SECONDS = 366 * 24 * 3600

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS)]
Window = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=12)]


class Common(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Name
    channel_ids: Annotated[list[Id], Field(max_length=50)] = []
    enabled: bool = True
    for_: Annotated[int, Field(alias="for", ge=0, le=MAX_SECONDS)] = 0
    repeat_every: Annotated[int, Field(ge=60, le=MAX_SECONDS)] | None = None


class Threshold(Common):
    kind: Literal["threshold"]
    stat_id: Id
    window: Window
    operator: Literal[">", ">=", "<", "<="]
    value: float


class Delta(Common):
    kind: Literal["delta"]
    stat_id: Id
    window: Window
    compare_to: Window
    operator: Literal[">", "<", "!="]
    percentage: Annotated[float, Field(ge=0, le=1e9)]


class Deadman(Common):
    kind: Literal["deadman"]
    stat_id: Id
    window: Window


class Run(Common):
    kind: Literal["run"]
    process: Annotated[str, StringConstraints(min_length=1, max_length=250)]
    meta: Annotated[str, StringConstraints(max_length=500)] | None = None
    condition: RunCondition
    every: Seconds | None = None
    schedule: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    grace: Annotated[float, Field(ge=0, le=MAX_SECONDS)] = 0
    max_duration: Seconds | None = None
    min_duration: Seconds | None = None
    max_runs: Annotated[int, Field(ge=0, le=10**9)] | None = None
    window: Window | None = None


class Exception_(Common):
    kind: Literal["exception"]
    process: Annotated[str, StringConstraints(min_length=1, max_length=250)] | None = None


class Spend(Common):
    kind: Literal["spend"]
    measure: Literal["cost", "tokens"]
    per: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    window: Window
    value: Annotated[float, Field(ge=0)]


MODELS: dict[str, type[Common]] = {
    AlertKind.THRESHOLD: Threshold,
    AlertKind.DELTA: Delta,
    AlertKind.DEADMAN: Deadman,
    AlertKind.RUN: Run,
    AlertKind.EXCEPTION: Exception_,
    AlertKind.SPEND: Spend,
}
COMMON_FIELDS = ("name", "channel_ids", "enabled", "for", "repeat_every", "kind")

# What each run condition needs, beside process (and meta).
RUN_FIELDS: dict[RunCondition, tuple[str, ...]] = {
    RunCondition.MISSING: ("every", "schedule", "grace"),
    RunCondition.TOO_LONG: ("max_duration",),
    RunCondition.TOO_SHORT: ("min_duration",),
    RunCondition.TOO_OFTEN: ("max_runs", "window"),
    RunCondition.FAILED: ("window",),
}


def _window(value: str, field: str, *, low: int = MINUTE, high: int = WEEK) -> None:
    try:
        ms = parse_duration(value)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None
    if ms % MINUTE:
        raise InvalidInput(field, "must be whole minutes (roll-ups are per minute)")
    if not low <= ms <= high:
        raise InvalidInput(field, "must be between 1m and 1w")


def _check_run(model: Run) -> None:
    condition = model.condition
    given = {
        name
        for name in ("every", "schedule", "max_duration", "min_duration", "max_runs", "window")
        if getattr(model, name) is not None
    }
    allowed = set(RUN_FIELDS[condition])
    for name in sorted(given - allowed):
        raise InvalidInput(name, f"does not apply to condition {condition.value!r}")
    if condition == RunCondition.MISSING:
        if (model.every is None) == (model.schedule is None):
            raise InvalidInput("every", "give either every (seconds) or schedule (cron)")
        if model.schedule is not None and not croniter.is_valid(model.schedule):
            raise InvalidInput("schedule", "is not a valid cron expression")
    elif condition == RunCondition.TOO_OFTEN:
        if model.max_runs is None:
            raise InvalidInput("max_runs", "is required for condition 'too_often'")
        if model.window is None:
            raise InvalidInput("window", "is required for condition 'too_often'")
    else:
        for name in RUN_FIELDS[condition]:
            if name != "window" and getattr(model, name) is None:
                raise InvalidInput(name, f"is required for condition {condition.value!r}")
    if model.window is not None:
        _window(model.window, "window")


def parse_alert(document: Any) -> AlertSpec:
    """A whole alert document → an ``AlertSpec``; InvalidInput names the first bad field."""
    if not isinstance(document, dict):
        raise InvalidInput("body", "must be a JSON object")
    kind = document.get("kind")
    if kind not in MODELS:
        raise InvalidInput("kind", f"must be one of {', '.join(MODELS)}")
    try:
        model = MODELS[kind].model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ["for" if part == "for_" else part for part in first.get("loc", ())]
        raise InvalidInput(field_from_location(location), first.get("msg", "is invalid")) from None
    if isinstance(model, Threshold | Delta | Deadman | Spend):
        _window(model.window, "window")
    if isinstance(model, Delta):
        _window(model.compare_to, "compare_to", high=YEAR)
    if isinstance(model, Run):
        _check_run(model)
    own = model.model_dump(exclude={"for_", *COMMON_FIELDS}, exclude_none=True)
    if isinstance(model, Run) and model.condition != RunCondition.MISSING:
        own.pop("grace", None)
    return AlertSpec(
        name=model.name,
        kind=AlertKind(kind),
        definition=own,
        channel_ids=list(dict.fromkeys(model.channel_ids)),
        enabled=model.enabled,
        for_seconds=model.for_,
        repeat_every=model.repeat_every,
    )


def document_of(spec: AlertSpec) -> dict[str, Any]:
    """The request document a stored rule came from (a PATCH is merged into it)."""
    return {
        "name": spec.name,
        "kind": spec.kind.value,
        "channel_ids": spec.channel_ids,
        "enabled": spec.enabled,
        "for": spec.for_seconds,
        "repeat_every": spec.repeat_every,
        **spec.definition,
    }
