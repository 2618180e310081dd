"""Mind maps: the model gives a flat list of nodes with parent ids; we check it is one tree and lay it out as the
prototype's React Flow graph (SPEC §4), left to right, one column per level.

Layout guarantee: every node is drawn in a NODE_WIDTH x NODE_HEIGHT box at its `position` (top-left corner).
Columns are at least NODE_WIDTH apart, and within a column two nodes are at least ROW_SPACING > NODE_HEIGHT apart
(each childless node gets its own row, in depth-first order, and a parent sits inside its subtree's rows), so no two
boxes overlap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidAnswer

MAX_NODES = 60
LEVEL_TYPES = ("root", "branch", "leaf", "subleaf")
LEVEL_X = (150, 550, 950, 1250)
NODE_WIDTH = 260
NODE_HEIGHT = 64
ROW_SPACING = 88
MAX_LABEL_CHARS = 80
EDGE_STYLES: dict[int, dict[str, float | str]] = {  # by the level of the edge's target
    1: {"strokeWidth": 3, "stroke": "#6366f1"},
    2: {"strokeWidth": 2, "stroke": "#10b981"},
    3: {"strokeWidth": 1.5, "stroke": "#f59e0b"},
}


@dataclass(frozen=True, slots=True)
class MindMapNodeSpec:
    id: str
    label: str
    parent: str | None
    timestamp: float | None


def build_mind_map(specs: list[MindMapNodeSpec]) -> dict[str, Any]:
    root = _check_tree(specs)
    children: dict[str, list[MindMapNodeSpec]] = {spec.id: [] for spec in specs}
    for spec in specs:
        if spec.parent is not None:
            children[spec.parent].append(spec)

    ordered = _depth_first(root, children)  # (spec, level), parents before children, children in input order
    counters = [0] * len(LEVEL_TYPES)
    new_ids: dict[str, str] = {}
    for spec, level in ordered:
        counters[level] += 1
        new_ids[spec.id] = f"{LEVEL_TYPES[level]}-{counters[level]}"

    rows = _rows(root, children)
    nodes = [
        _node(spec, level, new_ids[spec.id], [new_ids[c.id] for c in children[spec.id]], rows[spec.id])
        for spec, level in ordered
    ]
    edges = [_edge(new_ids[spec.parent], new_ids[spec.id], level) for spec, level in ordered if spec.parent is not None]
    return {"nodes": nodes, "edges": edges}


def _check_tree(specs: list[MindMapNodeSpec]) -> MindMapNodeSpec:
    """Every refusal says what to change, because the message goes back to the model."""
    if len(specs) > MAX_NODES:
        raise InvalidAnswer(f"The mind map has {len(specs)} nodes; give at most {MAX_NODES}")
    by_id: dict[str, MindMapNodeSpec] = {}
    for spec in specs:
        if not spec.id.strip():
            raise InvalidAnswer("A node has an empty id; give every node a short unique id")
        if not spec.label.strip():
            raise InvalidAnswer(f"Node {spec.id!r} has an empty label; give every node a short label")
        if spec.id in by_id:
            raise InvalidAnswer(f"The id {spec.id!r} is used by more than one node; give every node its own id")
        by_id[spec.id] = spec
    roots = [spec for spec in specs if spec.parent is None]
    if not roots:
        raise InvalidAnswer("No node has parent null; make exactly one node the root (parent null)")
    if len(roots) > 1:
        names = ", ".join(repr(r.id) for r in roots)
        raise InvalidAnswer(
            f"There are {len(roots)} nodes with parent null ({names}); keep exactly one root and give the others "
            "a parent"
        )
    for spec in specs:
        if spec.parent is not None and spec.parent not in by_id:
            raise InvalidAnswer(
                f"Node {spec.id!r} has parent {spec.parent!r}, which is not the id of any node; use an existing id "
                "(or null for the root)"
            )

    levels = _levels(roots[0], specs)
    unreachable = [spec.id for spec in specs if spec.id not in levels]
    if unreachable:
        names = ", ".join(repr(i) for i in unreachable[:5])
        raise InvalidAnswer(
            f"Nodes {names} form a cycle through their parent ids; every chain of parents must end at the root"
        )
    too_deep = next((spec for spec in specs if levels[spec.id] >= len(LEVEL_TYPES)), None)
    if too_deep is not None:
        raise InvalidAnswer(
            f"Node {too_deep.id!r} is {levels[too_deep.id]} levels below the root; the map has at most "
            f"{len(LEVEL_TYPES)} levels (root, branches, leaves, subleaves), so attach it higher up"
        )
    return roots[0]


def _levels(root: MindMapNodeSpec, specs: list[MindMapNodeSpec]) -> dict[str, int]:
    """Level of every node reachable from the root (nodes on or under a cycle are not)."""
    children: dict[str, list[str]] = {}
    for spec in specs:
        if spec.parent is not None:
            children.setdefault(spec.parent, []).append(spec.id)
    levels = {root.id: 0}
    frontier = [root.id]
    while frontier:
        next_frontier = []
        for node_id in frontier:
            for child in children.get(node_id, ()):
                levels[child] = levels[node_id] + 1
                next_frontier.append(child)
        frontier = next_frontier
    return levels


def _depth_first(
    root: MindMapNodeSpec, children: dict[str, list[MindMapNodeSpec]]
) -> list[tuple[MindMapNodeSpec, int]]:
    ordered: list[tuple[MindMapNodeSpec, int]] = []
    stack = [(root, 0)]
    while stack:
        spec, level = stack.pop()
        ordered.append((spec, level))
        stack.extend((child, level + 1) for child in reversed(children[spec.id]))
    return ordered


def _rows(root: MindMapNodeSpec, children: dict[str, list[MindMapNodeSpec]]) -> dict[str, float]:
    """Vertical position in rows: childless nodes take consecutive rows, a parent is centred on its children."""
    rows: dict[str, float] = {}
    next_row = 0

    def place(spec: MindMapNodeSpec) -> float:  # recursion depth is bounded by the 4 levels
        nonlocal next_row
        kids = children[spec.id]
        if not kids:
            rows[spec.id] = next_row
            next_row += 1
        else:
            placed = [place(kid) for kid in kids]
            rows[spec.id] = (placed[0] + placed[-1]) / 2
        return rows[spec.id]

    place(root)
    return rows


def _node(spec: MindMapNodeSpec, level: int, node_id: str, child_ids: list[str], row: float) -> dict[str, Any]:
    kind = LEVEL_TYPES[level]
    return {
        "id": node_id,
        "type": "custom",
        "position": {"x": LEVEL_X[level], "y": row * ROW_SPACING},
        "data": {
            "label": _readable_label(spec.label),
            "type": kind,
            "level": level,
            "children": child_ids,
            "originalValue": spec.label,
            "timestamp": spec.timestamp,
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


def _readable_label(label: str) -> str:
    """Whitespace collapsed; a very long label is cut at a word boundary with an ellipsis."""
    text = " ".join(label.split())
    if len(text) <= MAX_LABEL_CHARS:
        return text
    cut = text[: MAX_LABEL_CHARS - 1]
    if " " in cut[MAX_LABEL_CHARS // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"
