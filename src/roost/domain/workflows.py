"""Workflow rules: the export file's slug, and what an import or a create may contain.

The export/import document is ActiveWorkflow's (Huginn's scenario file with ``workflow``
naming, API.md §4.5). Validation names the offending field (``agents[2].schedule``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from roost.domain.agents import TYPE_PREFIX
from roost.domain.errors import InvalidInput

MAX_NAME = 255
MAX_DESCRIPTION = 10_000
MAX_AGENTS = 1000
MAX_LINKS = 10_000
DEFAULT_NAME = "No name provided"
DEFAULT_DESCRIPTION = "No description provided"
SCHEMA_VERSION = 1

SCHEDULES = frozenset(
    [
        *(f"every_{step}" for step in ("1m", "2m", "5m", "10m", "30m")),
        *(f"every_{step}" for step in ("1h", "2h", "5h", "12h", "1d", "2d", "7d")),
        "midnight",
        *(f"{hour}h" for hour in range(1, 24)),
        "never",
    ]
)
_DAY = 86_400
KEEP_MESSAGES_FOR = frozenset(
    [
        0,
        3600,
        21_600,
        _DAY,
        *(days * _DAY for days in (2, 3, 4, 5, 7, 14, 21, 30, 45, 90, 180, 365)),
    ]
)


def keep_for_export(seconds: int) -> int:
    """The longest allowed ``keep_messages_for`` not above ``seconds`` (0 = forever), so a
    file Roost writes always imports again."""
    if seconds <= 0:
        return 0
    return max(value for value in KEEP_MESSAGES_FOR if 0 < value <= max(seconds, 3600))


_GUID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_TYPE = re.compile(r"^Agents::[A-Za-z][A-Za-z0-9_]{0,90}$")
_NOT_SLUG = re.compile(r"[^a-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")


def slug(name: str) -> str:
    """The export file's name: lowercase; anything outside ``[a-z0-9_-]`` becomes a dash;
    dash runs collapse; no dash at either end; ``exported-agents`` when nothing is left."""
    text = _DASHES.sub("-", _NOT_SLUG.sub("-", name.lower())).strip("-")
    return text or "exported-agents"


@dataclass(frozen=True, slots=True)
class ImportedAgent:
    type: str
    name: str
    disabled: bool
    guid: str
    options: dict[str, Any]
    schedule: str | None
    keep_messages_for: int | None


@dataclass(frozen=True, slots=True)
class ImportDocument:
    name: str
    description: str | None
    guid: str
    tag_fg_color: str | None
    tag_bg_color: str | None
    icon: str | None
    agents: list[ImportedAgent]
    links: list[tuple[int, int]] = field(default_factory=list)
    control_links: list[tuple[int, int]] = field(default_factory=list)


def text_field(value: object, name: str, *, limit: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be a string")
    if len(value) > limit:
        raise InvalidInput(name, f"must be at most {limit} characters")
    return value


def name_field(value: object, name: str = "name") -> str:
    text = text_field(value, name, limit=MAX_NAME)
    assert text is not None
    if not text.strip():
        raise InvalidInput(name, "must not be empty")
    return text.strip()


def _guid(value: object, name: str) -> str:
    if not isinstance(value, str) or not _GUID.match(value):
        raise InvalidInput(name, "must be 1 to 32 characters of [A-Za-z0-9_-]")
    return value.lower()


def _color(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _COLOR.match(value):
        raise InvalidInput(name, "must be a colour like #5bc0de, or null")
    return value.lower()


def _agent(raw: object, at: str) -> ImportedAgent:
    if not isinstance(raw, dict):
        raise InvalidInput(at, "must be an object")
    agent_type = raw.get("type")
    if not isinstance(agent_type, str) or not _TYPE.match(agent_type):
        raise InvalidInput(f"{at}.type", f"must be a type like {TYPE_PREFIX}WebsiteAgent")
    disabled = raw.get("disabled", False)
    if not isinstance(disabled, bool):
        raise InvalidInput(f"{at}.disabled", "must be true or false")
    options = raw.get("options", {})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise InvalidInput(f"{at}.options", "must be an object")
    schedule = raw.get("schedule")
    if schedule is not None and schedule not in SCHEDULES:
        raise InvalidInput(
            f"{at}.schedule", "must be every_1m … every_7d, midnight, 1h … 23h or never"
        )
    keep = raw.get("keep_messages_for", raw.get("keep_events_for"))  # Huginn's name
    if keep is not None and (type(keep) is not int or keep not in KEEP_MESSAGES_FOR):
        raise InvalidInput(
            f"{at}.keep_messages_for", "must be 0, 3600, 21600 or a whole number of days in seconds"
        )
    return ImportedAgent(
        type=agent_type,
        name=name_field(raw.get("name"), f"{at}.name"),
        disabled=disabled,
        guid=_guid(raw.get("guid"), f"{at}.guid"),
        options=options,
        schedule=schedule,
        keep_messages_for=keep,
    )


def _links(raw: object, at: str, ends: tuple[str, str], count: int) -> list[tuple[int, int]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_LINKS:
        raise InvalidInput(at, f"must be a list of at most {MAX_LINKS} links")
    found: list[tuple[int, int]] = []
    for index, link in enumerate(raw):
        if not isinstance(link, dict):
            raise InvalidInput(f"{at}[{index}]", "must be an object")
        pair: list[int] = []
        for end in ends:
            value = link.get(end)
            if type(value) is not int or not 0 <= value < count:
                raise InvalidInput(
                    f"{at}[{index}].{end}", f"must be an index into agents (0 to {count - 1})"
                )
            pair.append(value)
        found.append((pair[0], pair[1]))
    return found


def parse_import(document: object) -> ImportDocument:
    """An export file (Roost's, ActiveWorkflow's or a Huginn scenario), checked whole."""
    if not isinstance(document, dict):
        raise InvalidInput("body", "must be a JSON object")
    for required in ("name", "guid", "agents"):
        if required not in document:
            raise InvalidInput(required, "is required")
    raw_agents = document["agents"]
    if not isinstance(raw_agents, list) or len(raw_agents) > MAX_AGENTS:
        raise InvalidInput("agents", f"must be a list of at most {MAX_AGENTS} agents")
    agents = [_agent(raw, f"agents[{index}]") for index, raw in enumerate(raw_agents)]
    seen: set[str] = set()
    for index, agent in enumerate(agents):
        if agent.guid in seen:
            raise InvalidInput(f"agents[{index}].guid", "appears twice")
        seen.add(agent.guid)
    name = text_field(document["name"], "name", limit=MAX_NAME)
    return ImportDocument(
        name=(name or "").strip() or DEFAULT_NAME,
        description=text_field(
            document.get("description"), "description", limit=MAX_DESCRIPTION, optional=True
        ),
        guid=_guid(document["guid"], "guid"),
        tag_fg_color=_color(document.get("tag_fg_color"), "tag_fg_color"),
        tag_bg_color=_color(document.get("tag_bg_color"), "tag_bg_color"),
        icon=text_field(document.get("icon"), "icon", limit=100, optional=True),
        agents=agents,
        links=_links(document.get("links"), "links", ("source", "receiver"), len(agents)),
        control_links=_links(
            document.get("control_links"),
            "control_links",
            ("controller", "control_target"),
            len(agents),
        ),
    )
