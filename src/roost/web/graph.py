"""A small layered layout for a workflow's agents and links, drawn as SVG by the template.

Layers follow the links: an agent with no source inside the workflow is on the first layer,
every other agent one layer right of its furthest source (cycles are cut after as many rounds
as there are agents). Within a layer agents keep their id order.
"""

from __future__ import annotations

from dataclasses import dataclass

NODE_WIDTH = 180
NODE_HEIGHT = 44
COLUMN_GAP = 70
ROW_GAP = 22
MARGIN = 10


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    name: str
    type: str
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    label: str


@dataclass(frozen=True, slots=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def lay_out(agents: list[tuple[int, str, str]], links: list[tuple[int, int]]) -> Graph:
    """``agents`` as (id, name, type); ``links`` as (source id, receiver id)."""
    ids = {agent_id for agent_id, _, _ in agents}
    inside = [(s, r) for s, r in links if s in ids and r in ids and s != r]
    layer = dict.fromkeys(ids, 0)
    for _ in range(len(ids)):  # longest path, bounded so a cycle cannot loop forever
        changed = False
        for source, receiver in inside:
            if layer[receiver] < layer[source] + 1 and layer[source] + 1 < len(ids):
                layer[receiver] = layer[source] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    nodes: dict[int, Node] = {}
    for agent_id, name, kind in sorted(agents):
        column = layer[agent_id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        nodes[agent_id] = Node(
            agent_id,
            name,
            kind,
            MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
            MARGIN + row * (NODE_HEIGHT + ROW_GAP),
        )
    edges = []
    for source, receiver in inside:
        a, b = nodes[source], nodes[receiver]
        forward = b.x > a.x
        edges.append(
            Edge(
                a.x + (NODE_WIDTH if forward else 0),
                a.y + NODE_HEIGHT // 2,
                b.x if forward else b.x + NODE_WIDTH,
                b.y + NODE_HEIGHT // 2,
                f"{a.name} to {b.name}",
            )
        )
    columns = max(layer.values(), default=0) + 1
    most = max(rows.values(), default=1)
    return Graph(
        list(nodes.values()),
        edges,
        2 * MARGIN + columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP,
        2 * MARGIN + most * NODE_HEIGHT + (most - 1) * ROW_GAP,
    )
