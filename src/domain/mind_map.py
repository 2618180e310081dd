"""Mind maps: the model gives a flat list of nodes with parent ids; we check it is one tree and lay it out as the
prototype's React Flow graph (SPEC §4), left to right, one column per level.

Labels are sized for a map: at most LABEL_MAX_WORDS[level] words (and MAX_LABEL_CHARS characters); a longer one is
shortened to a phrase at a word boundary, never re-asked, and kept whole in `data.originalValue`.

Layout guarantee, for the box the prototype's frontend draws (`_box_width` wide, at most 80 px tall, at `position`,
its top-left corner): a column starts COLUMN_GAP right of the widest box of the column before it, so every edge runs
left to right in the open; within a column two nodes are at least ROW_SPACING > 80 px apart (each childless node gets
its own row, in depth-first order, and a parent sits inside its subtree's rows), so no two boxes overlap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidAnswer

MAX_NODES = 60
LEVEL_TYPES = ("root", "branch", "leaf", "subleaf")
LABEL_MAX_WORDS = (4, 5, 6, 4)  # by level: a map shows phrases, not sentences
MAX_LABEL_CHARS = 60  # whatever the words: a box stays under 8 * 60 + 60 = 540 px

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
# Words a shortened label must not end on (English, then Polish): a cut phrase ends on a content word.
_FUNCTION_WORDS = frozenset(
    """a an the and or nor but of to in on at for with by from as into onto about than that which who whose whom
    is are was were be been its their his her our your my this these those via vs per if so not without over
    under between through during while when where whether
    i a o u w we z ze na do od po za przy pod nad przed dla bez przez oraz lub albo czy ale że iż to jak jako
    który która które którzy się nie jest są był była było by aby żeby ani lecz zaś ku między według wobec
    jego jej ich ten ta te tego tej tym""".split()  # noqa: SIM905 (a word list reads best as words)
)
_CLAUSE_ENDS = ",;:.!?-\u2013\u2014"  # the last two: en and em dash
# What a cut phrase must not end with: clause marks (but a question or exclamation stays), openers, quotes.
_TRAILING = _CLAUSE_ENDS.replace("!?", "") + " /&+([{\"'„“«…"


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

    labels = {spec.id: map_label(spec.label, level) for spec, level in ordered}
    column_x = _column_x([(level, labels[spec.id]) for spec, level in ordered])
    rows = _rows(root, children)
    nodes = [
        _node(
            spec,
            level,
            new_ids[spec.id],
            [new_ids[c.id] for c in children[spec.id]],
            {"x": column_x[level], "y": rows[spec.id] * ROW_SPACING},
            labels[spec.id],
        )
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


def _box_width(label: str, level: int) -> int:
    """The width the prototype's frontend gives a node with this label."""
    return max(MIN_BOX_WIDTH[level], CHAR_WIDTH * len(label) + BOX_PADDING)


def _column_x(labelled: list[tuple[int, str]]) -> list[int]:
    """Left edge of each level's column: COLUMN_GAP past the widest box of the level before."""
    widest = [0] * len(LEVEL_TYPES)
    for level, label in labelled:
        widest[level] = max(widest[level], _box_width(label, level))
    column_x = [PROTOTYPE_X[0]]
    for level in range(1, len(LEVEL_TYPES)):
        column_x.append(max(PROTOTYPE_X[level], column_x[-1] + widest[level - 1] + COLUMN_GAP))
    return column_x


def _node(
    spec: MindMapNodeSpec,
    level: int,
    node_id: str,
    child_ids: list[str],
    position: dict[str, float],
    label: str,
) -> dict[str, Any]:
    kind = LEVEL_TYPES[level]
    return {
        "id": node_id,
        "type": "custom",
        "position": position,
        "data": {
            "label": label,
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


def map_label(label: str, level: int) -> str:
    """The label as the map shows it: whitespace collapsed and, when over the level's limits, cut at a word
    boundary to a phrase: at a clause end if that keeps at least half the words, without trailing punctuation or a
    dangling function word ("and", "of", "i", "w"...), with an open bracket closed. A lone dash is not a word."""
    tokens = label.split()
    limit = LABEL_MAX_WORDS[level]
    if _word_count(tokens) <= limit and len(" ".join(tokens)) <= MAX_LABEL_CHARS:
        return " ".join(tokens)
    kept: list[str] = []
    for token in tokens:
        if _word_count([*kept, token]) > limit or len(" ".join([*kept, token])) > MAX_LABEL_CHARS:
            break
        kept.append(token)
    kept = kept or tokens[:1]
    clause_end = max(
        (
            i
            for i, token in enumerate(kept[:-1])
            if token[-1] in _CLAUSE_ENDS and 2 * _word_count(kept[: i + 1]) >= limit
        ),
        default=None,
    )
    if clause_end is not None:
        kept = kept[: clause_end + 1]
    phrase = _without_dangling_end(kept)
    if phrase.count("(") > phrase.count(")"):  # the cut fell inside a bracket: close it, or drop it if no room
        if len(phrase) < MAX_LABEL_CHARS:
            phrase += ")"
        elif phrase.rindex("(") > 0:
            phrase = _without_dangling_end(phrase[: phrase.rindex("(")].split())
    if len(phrase) > MAX_LABEL_CHARS:  # one word longer than a box (a URL, a chemical name): cut inside it
        phrase = phrase[: MAX_LABEL_CHARS - 1] + "…"
    return phrase


def _word_count(tokens: list[str]) -> int:
    return sum(1 for token in tokens if any(c.isalnum() for c in token))


def _without_dangling_end(words: list[str]) -> str:
    kept = list(words)
    while kept:
        last = kept[-1].rstrip(_TRAILING)
        if len(kept) > 1 and (not last or last.lower() in _FUNCTION_WORDS):
            kept.pop()
            continue
        kept[-1] = last or kept[-1]
        break
    return " ".join(kept)
