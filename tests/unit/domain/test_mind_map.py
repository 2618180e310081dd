"""The mind map: a flat node list with parent ids becomes a tree with map-sized labels (the domain), drawn as the
prototype's React Flow graph (the presenter), or a refusal a model can act on."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.presenters.mind_map import react_flow_graph
from application.processing.prompts import TASKS
from domain.errors import InvalidAnswer
from domain.mind_map import LEVEL_TYPES, MAX_LABEL_CHARS, MindMapNode, MindMapNodeSpec, build_mind_map, map_label
from domain.outputs import AnswerContext, check_answer

LABEL_MAX_WORDS = (4, 5, 6, 4)  # issue 8: root, branch, leaf, subleaf
PROTOTYPE_X = (150, 500, 900, 1200)  # SPEC §4: root ≈150, branches 500-600, leaves 900-1000, subleaves 1200-1300
PROTOTYPE_ROW_SPACING = 150  # the prototype's "minimum 150px vertical spacing"
BOX_HEIGHT = 80  # the tallest node the prototype's frontend draws (the root; others are at most 60)


def box_width(node: dict[str, Any]) -> int:
    """The prototype's frontend: ~8 px a character plus ~60 px of padding and badges, and a minimum per level."""
    return max((200, 160, 120, 120)[node["data"]["level"]], 8 * len(node["data"]["label"]) + 60)


def words(text: str) -> list[str]:
    return [token for token in text.split() if any(c.isalnum() for c in token)]


labels = st.one_of(  # arbitrary text, or words of random lengths and counts
    st.text(min_size=1, max_size=120).filter(str.strip),
    st.lists(st.text("abcdefghijklmnoprstuwyząęłóśżź,.:-()?", min_size=1, max_size=18), min_size=1, max_size=14).map(
        " ".join
    ),
)


@st.composite
def trees(draw: st.DrawFn) -> list[MindMapNodeSpec]:
    """A valid tree of 1..60 nodes, at most 4 levels, listed in a random order with arbitrary ids."""
    size = draw(st.integers(1, 60))
    levels = [0]
    parent_of: dict[int, int] = {}
    for node in range(1, size):
        parent = draw(st.sampled_from([i for i, level in enumerate(levels) if level < 3]))
        parent_of[node] = parent
        levels.append(levels[parent] + 1)
    ids = draw(st.lists(st.text(min_size=1, max_size=8).filter(str.strip), min_size=size, max_size=size, unique=True))
    texts = draw(st.lists(labels.filter(str.strip), min_size=size, max_size=size))
    stamps = draw(st.lists(st.none() | st.floats(0, 7200), min_size=size, max_size=size))
    order = draw(st.permutations(range(size)))
    return [MindMapNodeSpec(ids[i], texts[i], ids[parent_of[i]] if i in parent_of else None, stamps[i]) for i in order]


def graph_of(specs: list[MindMapNodeSpec]) -> dict[str, Any]:
    return react_flow_graph(build_mind_map(specs))


def _by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in graph["nodes"]}


@given(trees())
def test_the_tree_keeps_the_models_parents_order_and_whole_labels(specs: list[MindMapNodeSpec]) -> None:
    children = {spec.id: [s for s in specs if s.parent == spec.id] for spec in specs}

    def same(node: MindMapNode, spec: MindMapNodeSpec, level: int) -> None:
        assert (node.original, node.level, node.timestamp) == (spec.label, level, spec.timestamp)
        assert node.label == map_label(spec.label, level)
        assert len(node.children) == len(children[spec.id])
        for child, child_spec in zip(node.children, children[spec.id], strict=True):
            same(child, child_spec, level + 1)

    tree = build_mind_map(specs)
    same(tree.root, next(s for s in specs if s.parent is None), 0)
    assert len(list(tree.nodes())) == len(specs)


@given(trees())
def test_ids_are_numbered_per_level(specs: list[MindMapNodeSpec]) -> None:
    graph = graph_of(specs)
    assert len(graph["nodes"]) == len(specs)
    for level, kind in enumerate(LEVEL_TYPES):
        ids = [n["id"] for n in graph["nodes"] if n["data"]["level"] == level]
        assert all(n["data"]["type"] == kind for n in graph["nodes"] if n["data"]["level"] == level)
        assert sorted(ids, key=lambda i: int(i.rsplit("-", 1)[1])) == [f"{kind}-{k}" for k in range(1, len(ids) + 1)]
    assert [n["id"] for n in graph["nodes"] if n["data"]["level"] == 0] == ["root-1"]


@given(trees())
def test_edges_match_children_and_parents(specs: list[MindMapNodeSpec]) -> None:
    graph = graph_of(specs)
    nodes = _by_id(graph)
    targets: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    incoming: dict[str, int] = dict.fromkeys(nodes, 0)
    for edge in graph["edges"]:
        targets[edge["source"]].append(edge["target"])
        incoming[edge["target"]] += 1
        assert edge["type"] == "smoothstep"
        assert edge["animated"] is (edge["source"] == "root-1")
        assert edge["style"]["strokeWidth"] > 0
        assert edge["style"]["stroke"].startswith("#")
        assert nodes[edge["target"]]["data"]["level"] == nodes[edge["source"]]["data"]["level"] + 1
    for node_id, node in nodes.items():
        assert node["data"]["children"] == targets[node_id]
        assert incoming[node_id] == (0 if node_id == "root-1" else 1)
    assert len(graph["edges"]) == len(specs) - 1


@given(trees())
def test_every_node_is_reachable_from_the_root(specs: list[MindMapNodeSpec]) -> None:
    graph = graph_of(specs)
    nodes = _by_id(graph)
    seen = {"root-1"}
    frontier = ["root-1"]
    while frontier:
        frontier = [child for node_id in frontier for child in nodes[node_id]["data"]["children"]]
        seen.update(frontier)
    assert seen == set(nodes)


@given(trees())
def test_no_two_node_boxes_overlap_and_every_edge_runs_left_to_right_in_the_open(specs: list[MindMapNodeSpec]) -> None:
    graph = graph_of(specs)
    nodes = _by_id(graph)
    for node in graph["nodes"]:
        assert node["position"]["x"] >= PROTOTYPE_X[node["data"]["level"]]
        assert node["sourcePosition"] == "right"
        assert node["targetPosition"] == "left"
        assert node["type"] == "custom"
    assert nodes["root-1"]["position"]["x"] == 150
    for edge in graph["edges"]:
        source, target = nodes[edge["source"]], nodes[edge["target"]]
        assert source["position"]["x"] + box_width(source) < target["position"]["x"]
    boxes = [(n["position"]["x"], n["position"]["y"], box_width(n)) for n in graph["nodes"]]
    for i, (x1, y1, w1) in enumerate(boxes):
        for x2, y2, w2 in boxes[i + 1 :]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + BOX_HEIGHT <= y2 or y2 + BOX_HEIGHT <= y1


@given(trees())
def test_rows_of_a_column_are_at_least_the_prototypes_spacing_apart(specs: list[MindMapNodeSpec]) -> None:
    graph = graph_of(specs)
    for level in range(len(LEVEL_TYPES)):
        ys = sorted(n["position"]["y"] for n in graph["nodes"] if n["data"]["level"] == level)
        assert all(lower + PROTOTYPE_ROW_SPACING <= upper for lower, upper in itertools.pairwise(ys))


@given(trees())
def test_data_keeps_the_label_and_timestamp(specs: list[MindMapNodeSpec]) -> None:
    graph = graph_of(specs)
    originals = sorted(s.label for s in specs)
    assert sorted(n["data"]["originalValue"] for n in graph["nodes"]) == originals
    for node in graph["nodes"]:
        data = node["data"]
        assert data["label"]
        assert not re.search(r"\s\s|\n", data["label"])
        assert data["timestamp"] is None or isinstance(data["timestamp"], float)


@given(labels, st.integers(0, 3))
def test_a_label_fits_its_level_and_is_the_start_of_the_phrase(label: str, level: int) -> None:
    shown = map_label(label, level)
    assert shown
    assert len(words(shown)) <= LABEL_MAX_WORDS[level]
    assert len(shown) <= MAX_LABEL_CHARS
    whole = " ".join(label.split())
    assert whole.startswith(shown.rstrip(")…"))
    if len(words(whole)) <= LABEL_MAX_WORDS[level] and len(whole) <= MAX_LABEL_CHARS:
        assert shown == whole


@pytest.mark.parametrize(
    ("label", "level", "shown"),
    [
        ("The role of sleep in the consolidation of memory", 0, "The role of sleep"),
        ("The role of sleep in the consolidation of memory", 2, "The role of sleep"),
        ("Wpływ snu na konsolidację pamięci u dorosłych i dzieci", 2, "Wpływ snu na konsolidację pamięci"),
        ("Pszczoły w mieście i na wsi, czyli gdzie żyje im się lepiej", 3, "Pszczoły w mieście"),
        ("Chleb na zakwasie: jak go upiec w domu bez drożdży", 1, "Chleb na zakwasie"),
        ("Heat islands - causes and remedies in big cities", 2, "Heat islands - causes and remedies"),
        ("Why sleep? Because the brain replays the day", 0, "Why sleep?"),
        ("Caching (HTTP and CDN caches for big sites)", 1, "Caching (HTTP and CDN caches)"),
        ("Sleep deprivation and memory.", 2, "Sleep deprivation and memory."),
    ],
)
def test_a_long_label_is_cut_to_a_phrase_without_a_dangling_word(label: str, level: int, shown: str) -> None:
    assert map_label(label, level) == shown


def test_a_label_of_one_huge_word_is_cut_inside_it_with_an_ellipsis() -> None:
    url = "https://example.com/" + "a" * 100
    shown = map_label(url, 2)
    assert shown.endswith("…")
    assert len(shown) == MAX_LABEL_CHARS
    assert url.startswith(shown[:-1])


def test_sentences_as_leaves_no_longer_cover_their_subleaves() -> None:
    """The prototype's frontend drew whole-sentence leaves at x=950 over their subleaves at x=1250."""
    sentence = "Deep sleep replays the day's experiences so that the hippocampus can hand them to the cortex"
    specs = [MindMapNodeSpec("r", "Sleep and memory", None, None), MindMapNodeSpec("b", "Deep sleep", "r", None)]
    specs += [MindMapNodeSpec(f"l{i}", sentence, "b", None) for i in range(3)]
    specs += [MindMapNodeSpec(f"s{i}", "Hippocampus to cortex", f"l{i}", None) for i in range(3)]
    nodes = _by_id(graph_of(specs))
    leaf, subleaf = nodes["leaf-1"], nodes["subleaf-1"]
    assert leaf["data"]["label"] == "Deep sleep replays the day's experiences"
    assert leaf["data"]["originalValue"] == sentence
    assert leaf["position"]["x"] + box_width(leaf) < subleaf["position"]["x"]
    assert subleaf["position"]["x"] == leaf["position"]["x"] + box_width(leaf) + 80


def test_an_answer_with_sentence_labels_is_accepted_not_re_asked() -> None:
    sentence = "  Sleep  spindles move memories from the hippocampus to the cortex during deep sleep "
    nodes = [{"id": "r", "label": sentence, "parent": None, "timestamp": None}] + [
        {"id": f"b{i}", "label": sentence, "parent": "r", "timestamp": None} for i in range(3)
    ]
    context = AnswerContext(source_words=500, source_chars=3000, duration=0)
    tree = check_answer("mind_map", json.dumps({"nodes": nodes}), context).value
    root, branch = tree.root, tree.root.children[0]
    assert root.label == branch.label == "Sleep spindles move memories"
    assert root.original == " ".join(sentence.split())


def test_the_prompt_states_each_levels_word_limit() -> None:
    task = TASKS["mind_map"]
    for kind, limit in zip(LEVEL_TYPES, LABEL_MAX_WORDS, strict=True):
        assert f"{kind} labels at most {limit} words" in task


def test_a_parent_is_centred_on_its_children_and_ids_follow_depth_first_order() -> None:
    specs = [
        MindMapNodeSpec("r", "Root", None, None),
        MindMapNodeSpec("a", "A", "r", 10.0),
        MindMapNodeSpec("b", "B", "r", None),
        MindMapNodeSpec("a1", "A1", "a", None),
        MindMapNodeSpec("a2", "A2", "a", None),
        MindMapNodeSpec("b1", "B1", "b", None),
    ]
    graph = graph_of(specs)
    assert [n["id"] for n in graph["nodes"]] == ["root-1", "branch-1", "leaf-1", "leaf-2", "branch-2", "leaf-3"]
    nodes = _by_id(graph)
    y = {node_id: node["position"]["y"] for node_id, node in nodes.items()}
    assert y["branch-1"] == (y["leaf-1"] + y["leaf-2"]) / 2
    assert y["branch-2"] == y["leaf-3"]
    assert y["root-1"] == (y["branch-1"] + y["branch-2"]) / 2
    assert nodes["branch-1"]["data"]["timestamp"] == 10.0
    assert nodes["branch-1"]["data"]["children"] == ["leaf-1", "leaf-2"]


def _chain(depth: int) -> list[MindMapNodeSpec]:
    return [MindMapNodeSpec("n0", "root", None, None)] + [
        MindMapNodeSpec(f"n{i}", f"node {i}", f"n{i - 1}", None) for i in range(1, depth)
    ]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "No node has parent null"),
        (
            [MindMapNodeSpec("a", "A", None, None), MindMapNodeSpec("b", "B", None, None)],
            "2 nodes with parent null",
        ),
        (
            [MindMapNodeSpec("a", "A", None, None), MindMapNodeSpec("a", "B", "a", None)],
            "used by more than one node",
        ),
        (
            [MindMapNodeSpec("a", "A", None, None), MindMapNodeSpec("b", "B", "zzz", None)],
            "not the id of any node",
        ),
        (
            [
                MindMapNodeSpec("r", "R", None, None),
                MindMapNodeSpec("x", "X", "y", None),
                MindMapNodeSpec("y", "Y", "x", None),
            ],
            "form a cycle",
        ),
        (
            [MindMapNodeSpec("r", "R", None, None), MindMapNodeSpec("s", "S", "s", None)],
            "form a cycle",
        ),
        ([MindMapNodeSpec("r", "R", None, None), MindMapNodeSpec("b", "  ", "r", None)], "empty label"),
        ([MindMapNodeSpec("r", "R", None, None), MindMapNodeSpec(" ", "B", "r", None)], "empty id"),
        (_chain(5), "at most 4 levels"),
        (
            [MindMapNodeSpec("r", "R", None, None)] + [MindMapNodeSpec(f"b{i}", "B", "r", None) for i in range(60)],
            "give at most 60",
        ),
    ],
    ids=[
        "no root",
        "two roots",
        "duplicate id",
        "unknown parent",
        "cycle",
        "own parent",
        "empty label",
        "empty id",
        "too deep",
        "too many",
    ],
)
def test_refusals_say_what_to_change(specs: list[MindMapNodeSpec], message: str) -> None:
    with pytest.raises(InvalidAnswer, match=message):
        build_mind_map(specs)


def test_four_levels_are_accepted() -> None:
    graph = graph_of(_chain(4))
    assert [n["id"] for n in graph["nodes"]] == ["root-1", "branch-1", "leaf-1", "subleaf-1"]
