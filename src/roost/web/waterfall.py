"""A session's event tree flattened into waterfall rows: depth, offset and width on one axis."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from roost.services.trace_queries import TreeNode
from roost.storage.events import EventRow

WIDTH = 1000  # the bars' SVG units
MIN_BAR = 2.0
# Indentation classes stop here; deeper events line up with this level.
MAX_INDENT = 12


@dataclass(frozen=True, slots=True)
class Row:
    event: EventRow
    depth: int
    x: float
    width: float
    model: str | None  # the model of a model event, when its config names it


@dataclass(frozen=True, slots=True)
class Waterfall:
    start: float
    end: float
    rows: list[Row]


def _model(row: EventRow) -> str | None:
    if row.event_type != "model":
        return None
    try:
        config = orjson.loads(row.config)
    except orjson.JSONDecodeError:
        return None
    found = config.get("model") if isinstance(config, dict) else None
    return str(found) if found else None


def flatten(root: TreeNode) -> Waterfall:
    """Depth first, children in start order (as the tree holds them); an iterative walk, so
    a deep tree does not exhaust Python's stack."""
    ordered: list[tuple[TreeNode, int]] = []
    pending: list[tuple[TreeNode, int]] = [(root, 0)]
    while pending:
        node, depth = pending.pop()
        ordered.append((node, depth))
        pending.extend((child, depth + 1) for child in reversed(node.children))
    start = min(node.row.start_time for node, _ in ordered)
    end = max(max(node.row.end_time, node.row.start_time) for node, _ in ordered)
    span = max(end - start, 1.0)
    rows = []
    for node, depth in ordered:
        row = node.row
        x = (row.start_time - start) / span * WIDTH
        width = max(MIN_BAR, (max(row.end_time, row.start_time) - row.start_time) / span * WIDTH)
        rows.append(Row(row, depth, round(min(x, WIDTH - width), 2), round(width, 2), _model(row)))
    return Waterfall(start, end, rows)


def indent(depth: int) -> int:
    return min(depth, MAX_INDENT)
