"""The prototype's React Flow graph of a mind map (SPEC §4): node ids `root-1`, `branch-N`, `leaf-N`, `subleaf-N`,
pixel positions in a left-to-right layout, one column per level, and the edge styles its frontend draws.

A presenter, yet in application rather than interfaces: history rows store this graph exactly as the response
showed it (README, "History"), so the processing use case renders it before saving, and the HTTP views (and later
exports) render it from the same function. It imports no framework.

Layout guarantee, for the box the prototype's frontend draws (`box_width` wide, at most 80 px tall, at `position`,
its top-left corner): a column starts COLUMN_GAP right of the widest box of the column before it, so every edge runs
left to right in the open; within a column two nodes are at least ROW_SPACING > 80 px apart (each childless node gets
its own row, in depth-first order, and a parent sits inside its subtree's rows), so no two boxes overlap."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.mind_map import LEVEL_TYPES, MindMap, MindMapNode

# How the prototype's frontend draws a node (yt-to-social-post, yt-scribe/src/components/dashboard/
# TranscriptionResults/components/MindMapCard/MindMapNode.tsx): a `p-3` box that grows with its one-line label
# (text-xs to text-base, ~8 px a character) plus a chevron, a copy button and a level badge (~60 px), at least
# `min-w-[200px]` (root), `min-w-[160px]` (branch) or `min-w-[120px]`; 80 px tall at most (the root's
# `min-h-[80px]`; one line of text needs less).
CHAR_WIDTH = 8
BOX_PADDING = 60
MIN_BOX_WIDTH = (200, 160, 120, 120)
# The prototype's own columns (root x 150, branches 500-600, leaves 900-1000, subleaves 1200-1300; its mind-map
# prompt, yt-scribe-api src/prompts/mind-map.prompt.ts) are kept as the leftmost a column may start; a wider column
# before it pushes it right. Its rows are at least 150 px apart ("minimum 150px vertical spacing between leaves").
PROTOTYPE_X = (150, 500, 900, 1200)
COLUMN_GAP = 80  # room for the smoothstep edge between a column's widest box and the next column
ROW_SPACING = 150
EDGE_STYLES: dict[int, dict[str, float | str]] = {  # by the level of the edge's target
    1: {"strokeWidth": 3, "stroke": "#6366f1"},
    2: {"strokeWidth": 2, "stroke": "#10b981"},
    3: {"strokeWidth": 1.5, "stroke": "#f59e0b"},
}


@dataclass(slots=True)
class _Placed:
    node: MindMapNode
    id: str
    parent_id: str | None
    child_ids: list[str] = field(default_factory=list)
    row: float = 0


def react_flow_graph(mind_map: MindMap) -> dict[str, Any]:
    placed = _place(mind_map.root)
    column_x = _column_x(mind_map)
    nodes = [_node(p, {"x": column_x[p.node.level], "y": p.row * ROW_SPACING}) for p in placed]
    edges = [_edge(p.parent_id, p.id, p.node.level) for p in placed if p.parent_id is not None]
    return {"nodes": nodes, "edges": edges}


def _place(root: MindMapNode) -> list[_Placed]:
    """Ids numbered per level and rows, depth first: childless nodes take consecutive rows, a parent is centred
    on its children."""
    placed: list[_Placed] = []
    counters = [0] * len(LEVEL_TYPES)
    next_row = 0

    def place(node: MindMapNode, parent_id: str | None) -> _Placed:  # recursion depth is bounded by the 4 levels
        nonlocal next_row
        counters[node.level] += 1
        entry = _Placed(node, f"{node.kind}-{counters[node.level]}", parent_id)
        placed.append(entry)
        children = [place(child, entry.id) for child in node.children]
        entry.child_ids = [child.id for child in children]
        if children:
            entry.row = (children[0].row + children[-1].row) / 2
        else:
            entry.row = next_row
            next_row += 1
        return entry

    place(root, None)
    return placed


def box_width(label: str, level: int) -> int:
    """The width the prototype's frontend gives a node with this label."""
    return max(MIN_BOX_WIDTH[level], CHAR_WIDTH * len(label) + BOX_PADDING)


def _column_x(mind_map: MindMap) -> list[int]:
    """Left edge of each level's column: COLUMN_GAP past the widest box of the level before."""
    widest = [0] * len(LEVEL_TYPES)
    for node in mind_map.nodes():
        widest[node.level] = max(widest[node.level], box_width(node.label, node.level))
    column_x = [PROTOTYPE_X[0]]
    for level in range(1, len(LEVEL_TYPES)):
        column_x.append(max(PROTOTYPE_X[level], column_x[-1] + widest[level - 1] + COLUMN_GAP))
    return column_x


def _node(placed: _Placed, position: dict[str, float]) -> dict[str, Any]:
    node = placed.node
    return {
        "id": placed.id,
        "type": "custom",
        "position": position,
        "data": {
            "label": node.label,
            "type": node.kind,
            "level": node.level,
            "children": placed.child_ids,
            "originalValue": node.original,
            "timestamp": node.timestamp,
        },
        "sourcePosition": "right",
        "targetPosition": "left",
    }


def _edge(source: str, target: str, target_level: int) -> dict[str, Any]:
    return {
        "id": f"edge-{source}-{target}",
        "source": source,
        "target": target,
        "type": "smoothstep",
        "animated": source == "root-1",
        "style": dict(EDGE_STYLES[target_level]),
    }
