"""Mind maps: the model gives a flat list of nodes with parent ids; we check it is one tree of at most four levels
(root, branches, leaves, subleaves) and keep it as that tree (SPEC §4). How a client draws it (the prototype's React
Flow graph: ids, positions, colours) is presentation, in `application.presenters.mind_map`.

Labels are sized for a map: at most LABEL_MAX_WORDS[level] words (and MAX_LABEL_CHARS characters); a longer one is
shortened to a phrase at a word boundary, never re-asked, and kept whole as the node's `original`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from domain.errors import InvalidAnswer

MAX_NODES = 60
LEVEL_TYPES = ("root", "branch", "leaf", "subleaf")
LABEL_MAX_WORDS = (4, 5, 6, 4)  # by level: a map shows phrases, not sentences
MAX_LABEL_CHARS = 60  # whatever the words: a label fits one line of a map's box
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
    """One node as the model gave it."""

    id: str
    label: str
    parent: str | None
    timestamp: float | None


@dataclass(frozen=True, slots=True)
class MindMapNode:
    label: str  # as the map shows it: within its level's limits
    original: str  # as the model wrote it
    level: int  # 0 root, 1 branch, 2 leaf, 3 subleaf
    timestamp: float | None  # seconds into the video
    children: tuple[MindMapNode, ...]

    @property
    def kind(self) -> str:
        return LEVEL_TYPES[self.level]


@dataclass(frozen=True, slots=True)
class MindMap:
    root: MindMapNode

    def nodes(self) -> Iterator[MindMapNode]:
        """Depth first: every parent before its children, children in the model's order."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def build_mind_map(specs: list[MindMapNodeSpec]) -> MindMap:
    """The tree the specs describe, with map-sized labels; InvalidAnswer says what to change when they are not
    one tree of at most MAX_NODES nodes and len(LEVEL_TYPES) levels."""
    root = _check_tree(specs)
    children: dict[str, list[MindMapNodeSpec]] = {spec.id: [] for spec in specs}
    for spec in specs:
        if spec.parent is not None:
            children[spec.parent].append(spec)

    def grow(spec: MindMapNodeSpec, level: int) -> MindMapNode:  # recursion depth is bounded by the 4 levels
        kids = tuple(grow(child, level + 1) for child in children[spec.id])
        return MindMapNode(map_label(spec.label, level), spec.label, level, spec.timestamp, kids)

    return MindMap(grow(root, 0))


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
