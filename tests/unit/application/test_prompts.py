"""The prompt asks for what the checker accepts: every number it states comes from the output rules' constants."""

from __future__ import annotations

import pytest

from application.processing.prompts import TASKS
from domain.mind_map import LEVEL_TYPES
from domain.outputs import (
    HASHTAGS_ASKED,
    HASHTAGS_COUNT,
    MIND_MAP_BRANCHES_ASKED,
    MIND_MAP_LEAVES_ASKED,
    MIND_MAP_NODES,
    MIND_MAP_NODES_ASKED,
    SOCIAL_POST_CHARS,
    SUMMARY_WORDS,
    TOPIC_MAX_WORDS,
    TOPICS_ASKED,
    TOPICS_COUNT,
    Output,
)


def _range(pair: tuple[int, int]) -> str:
    return f"{pair[0]} to {pair[1]}"


@pytest.mark.parametrize(
    ("output", "phrase"),
    [
        (Output.SUMMARY, f"in {_range(SUMMARY_WORDS)} words"),
        (Output.TOPICS, f"the {_range(TOPICS_ASKED)} key topics"),
        (Output.TOPICS, f"at most {TOPIC_MAX_WORDS} words"),
        (Output.MIND_MAP, f"{_range(MIND_MAP_NODES_ASKED)} nodes (at most {MIND_MAP_NODES[1]})"),
        (Output.MIND_MAP, f"{_range(MIND_MAP_BRANCHES_ASKED)} branches"),
        (Output.MIND_MAP, f"under each branch {_range(MIND_MAP_LEAVES_ASKED)} leaves"),
        (Output.MIND_MAP, f"at most {len(LEVEL_TYPES)} levels"),
        (Output.SOCIAL_POST, f"{_range(SOCIAL_POST_CHARS)} characters"),
        (Output.SOCIAL_POST, f"{_range(HASHTAGS_ASKED)} relevant hashtags"),
    ],
)
def test_the_prompt_states_the_numbers_of_the_rules(output: Output, phrase: str) -> None:
    assert phrase in TASKS[output]


@pytest.mark.parametrize(
    ("asked", "accepted"),
    [(TOPICS_ASKED, TOPICS_COUNT), (HASHTAGS_ASKED, HASHTAGS_COUNT), (MIND_MAP_NODES_ASKED, MIND_MAP_NODES)],
)
def test_what_the_prompt_asks_for_is_inside_what_the_checker_accepts(
    asked: tuple[int, int], accepted: tuple[int, int]
) -> None:
    assert accepted[0] <= asked[0] <= asked[1] <= accepted[1]
