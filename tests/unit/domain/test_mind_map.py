"""The mind map: a flat node list with parent ids becomes the prototype's React Flow graph, or a refusal a model can
act on."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidAnswer
from domain.mind_map import (
    LEVEL_TYPES,
    MAX_LABEL_CHARS,
    NODE_HEIGHT,
    NODE_WIDTH,
    MindMapNodeSpec,
    build_mind_map,
)

X_BANDS = ((100, 200), (500, 600), (900, 1000), (1200, 1300))  # SPEC §4: root ≈150, branches 500-600, ...


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
    labels = draw(st.lists(st.text(min_size=1, max_size=120).filter(str.strip), min_size=size, max_size=size))
    stamps = draw(st.lists(st.none() | st.floats(0, 7200), min_size=size, max_size=size))
    order = draw(st.permutations(range(size)))
    return [MindMapNodeSpec(ids[i], labels[i], ids[parent_of[i]] if i in parent_of else None, stamps[i]) for i in order]


def _by_id(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in graph["nodes"]}


@given(trees())
def test_ids_are_numbered_per_level(specs: list[MindMapNodeSpec]) -> None:
    graph = build_mind_map(specs)
    assert len(graph["nodes"]) == len(specs)
    for level, kind in enumerate(LEVEL_TYPES):
        ids = [n["id"] for n in graph["nodes"] if n["data"]["level"] == level]
        assert all(n["data"]["type"] == kind for n in graph["nodes"] if n["data"]["level"] == level)
        assert sorted(ids, key=lambda i: int(i.rsplit("-", 1)[1])) == [f"{kind}-{k}" for k in range(1, len(ids) + 1)]
    assert [n["id"] for n in graph["nodes"] if n["data"]["level"] == 0] == ["root-1"]


@given(trees())
def test_edges_match_children_and_parents(specs: list[MindMapNodeSpec]) -> None:
    graph = build_mind_map(specs)
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
    graph = build_mind_map(specs)
    nodes = _by_id(graph)
    seen = {"root-1"}
    frontier = ["root-1"]
    while frontier:
        frontier = [child for node_id in frontier for child in nodes[node_id]["data"]["children"]]
        seen.update(frontier)
    assert seen == set(nodes)


@given(trees())
def test_layout_runs_left_to_right_without_overlaps(specs: list[MindMapNodeSpec]) -> None:
    graph = build_mind_map(specs)
    nodes = _by_id(graph)
    for node in graph["nodes"]:
        low, high = X_BANDS[node["data"]["level"]]
        assert low <= node["position"]["x"] <= high
        assert node["sourcePosition"] == "right"
        assert node["targetPosition"] == "left"
        assert node["type"] == "custom"
    for edge in graph["edges"]:
        assert nodes[edge["target"]]["position"]["x"] > nodes[edge["source"]]["position"]["x"]
    boxes = [(n["position"]["x"], n["position"]["y"]) for n in graph["nodes"]]
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1 :]:
            apart = x1 + NODE_WIDTH <= x2 or x2 + NODE_WIDTH <= x1 or y1 + NODE_HEIGHT <= y2 or y2 + NODE_HEIGHT <= y1
            assert apart


@given(trees())
def test_data_keeps_the_label_and_timestamp(specs: list[MindMapNodeSpec]) -> None:
    graph = build_mind_map(specs)
    originals = sorted(s.label for s in specs)
    assert sorted(n["data"]["originalValue"] for n in graph["nodes"]) == originals
    for node in graph["nodes"]:
        data = node["data"]
        assert data["label"]
        assert len(data["label"]) <= MAX_LABEL_CHARS
        assert not re.search(r"\s\s|\n", data["label"])
        assert data["timestamp"] is None or isinstance(data["timestamp"], float)


def test_a_parent_is_centred_on_its_children_and_ids_follow_depth_first_order() -> None:
    specs = [
        MindMapNodeSpec("r", "Root", None, None),
        MindMapNodeSpec("a", "A", "r", 10.0),
        MindMapNodeSpec("b", "B", "r", None),
        MindMapNodeSpec("a1", "A1", "a", None),
        MindMapNodeSpec("a2", "A2", "a", None),
        MindMapNodeSpec("b1", "B1", "b", None),
    ]
    graph = build_mind_map(specs)
    assert [n["id"] for n in graph["nodes"]] == ["root-1", "branch-1", "leaf-1", "leaf-2", "branch-2", "leaf-3"]
    nodes = _by_id(graph)
    y = {node_id: node["position"]["y"] for node_id, node in nodes.items()}
    assert y["branch-1"] == (y["leaf-1"] + y["leaf-2"]) / 2
    assert y["branch-2"] == y["leaf-3"]
    assert y["root-1"] == (y["branch-1"] + y["branch-2"]) / 2
    assert nodes["branch-1"]["data"]["timestamp"] == 10.0
    assert nodes["branch-1"]["data"]["children"] == ["leaf-1", "leaf-2"]


def test_a_very_long_label_is_cut_with_an_ellipsis_and_kept_whole_as_original_value() -> None:
    long_label = "word  " * 40
    graph = build_mind_map([MindMapNodeSpec("r", long_label, None, None)])
    data = graph["nodes"][0]["data"]
    assert data["label"].endswith("…")
    assert len(data["label"]) <= MAX_LABEL_CHARS
    assert data["originalValue"] == long_label


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
    graph = build_mind_map(_chain(4))
    assert [n["id"] for n in graph["nodes"]] == ["root-1", "branch-1", "leaf-1", "subleaf-1"]
