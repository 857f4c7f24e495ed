"""The Jinja2 environment: autoescaped templates from ``web/templates``, a few filters."""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from roost.web import assets


def _utc(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) >= 1e4 else f"{value:.4g}"


def _iso(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build() -> Environment:
    env = Environment(
        loader=PackageLoader("roost.web", "templates"),
        autoescape=select_autoescape(("html", "svg")),
        undefined=StrictUndefined,  # a misspelt variable fails the tests, not the user
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _utc
    env.filters["number"] = _number
    env.filters["iso"] = _iso
    env.globals["asset"] = assets.url
    env.globals["styles"] = assets.STYLES
    env.globals["scripts"] = assets.SCRIPTS
    return env
