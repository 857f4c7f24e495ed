"""JSON shown folded: objects and arrays as nested <details>, long values cut with "show all".

Built as escaped HTML in Python (markupsafe), because a recursive Jinja macro over 2,000
events' payloads is slow and hard to bound. Everything a client sent is escaped.
"""

from __future__ import annotations

from typing import Any

import orjson
from markupsafe import Markup, escape

# Strings longer than this show their start, with the whole text behind "show all".
LONG_TEXT = 300
# Objects and arrays show this many entries, the rest behind "show all".
MANY_ITEMS = 50
# Deeper levels start folded, so a big payload opens small.
OPEN_LEVELS = 2
# Past this depth the value is shown as JSON text (still cut when long).
MAX_DEPTH = 12


def render(text: str) -> Markup:
    """The stored JSON ``text`` folded; an empty object or array says so plainly."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _string(text)
    if value in ({}, [], None):
        return Markup('<p class="muted">empty</p>')
    return Markup('<div class="json">') + _value(value, 0) + Markup("</div>")


def _string(value: str) -> Markup:
    if len(value) <= LONG_TEXT:
        return Markup('<span class="j-str">') + escape(value) + Markup("</span>")
    return (
        Markup('<span class="j-str">')
        + escape(value[:LONG_TEXT])
        + Markup("…</span>")
        + Markup('<details class="show-all"><summary>show all (')
        + escape(f"{len(value):,}")
        + Markup(' characters)</summary><pre class="j-full">')
        + escape(value)
        + Markup("</pre></details>")
    )


def _scalar(value: Any) -> Markup:
    if isinstance(value, str):
        return _string(value)
    if value is None or isinstance(value, bool):
        return (
            Markup('<span class="j-lit">')
            + escape(orjson.dumps(value).decode())
            + Markup("</span>")
        )
    return Markup('<span class="j-num">') + escape(str(value)) + Markup("</span>")


def _entries(value: dict[str, Any] | list[Any]) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(str(key), item) for key, item in value.items()]
    return [(str(index), item) for index, item in enumerate(value)]


def _value(value: Any, depth: int) -> Markup:
    if not isinstance(value, dict | list):
        return _scalar(value)
    if depth >= MAX_DEPTH:
        return _string(orjson.dumps(value).decode())
    entries = _entries(value)
    if not entries:
        return (
            Markup('<span class="j-lit">')
            + escape("{}" if isinstance(value, dict) else "[]")
            + Markup("</span>")
        )
    shown, rest = entries[:MANY_ITEMS], entries[MANY_ITEMS:]
    body = _rows(shown, depth)
    if rest:
        body += (
            Markup('<details class="show-all"><summary>show all (')
            + escape(f"{len(rest):,} more")
            + Markup(")</summary>")
            + _rows(rest, depth)
            + Markup("</details>")
        )
    kind = "{…}" if isinstance(value, dict) else "[…]"
    opened = " open" if depth < OPEN_LEVELS else ""
    return (
        Markup(f'<details class="j-fold"{opened}><summary>')
        + escape(f"{kind} {_count(len(entries), isinstance(value, dict))}")
        + Markup("</summary>")
        + body
        + Markup("</details>")
    )


def _count(size: int, is_object: bool) -> str:
    noun = "key" if is_object else "item"
    return f"{size} {noun}{'' if size == 1 else 's'}"


def _rows(entries: list[tuple[str, Any]], depth: int) -> Markup:
    parts = [Markup('<dl class="j-obj">')]
    for key, item in entries:
        parts.append(
            Markup("<dt>")
            + escape(key)
            + Markup("</dt><dd>")
            + _value(item, depth + 1)
            + Markup("</dd>")
        )
    parts.append(Markup("</dl>"))
    return Markup("").join(parts)
