"""The output contract: what an answer must be before a user sees it."""

from __future__ import annotations

import msgspec
import pytest

from domain.errors import InvalidAnswer
from domain.outputs import AnswerContext, Purpose, check_answer

LONG = AnswerContext(source_words=5000, source_chars=30000, duration=3600.0)
UNTIMED = AnswerContext(source_words=5000, source_chars=30000, duration=0.0)


def answer(**fields: object) -> bytes:
    return msgspec.json.encode(fields)


def words(n: int) -> str:
    return " ".join(["word"] * n)


@pytest.mark.parametrize("count", [100, 150, 200])
def test_a_summary_of_100_to_200_words_passes(count: int) -> None:
    assert check_answer("summary", answer(summary=f"  {words(count)} "), LONG).value == words(count)


@pytest.mark.parametrize("count", [99, 201])
def test_a_summary_outside_the_range_is_refused_with_the_count(count: int) -> None:
    with pytest.raises(InvalidAnswer, match=f"has {count} words"):
        check_answer("summary", answer(summary=words(count)), LONG)


def test_a_short_source_allows_a_short_summary() -> None:
    context = AnswerContext(source_words=40, source_chars=250, duration=0)
    assert check_answer("summary", answer(summary=words(30)), context).value == words(30)


def test_topics_render_as_the_prototype_list_and_keep_valid_timestamps() -> None:
    topics = [
        {"title": "- Light reactions", "timestamp": 12.7},
        {"title": "Calvin  cycle", "timestamp": 4000},
        {"title": "Chlorophyll", "timestamp": None},
    ]
    checked = check_answer("topics", answer(topics=topics), LONG)
    assert checked.value == "Key topics:\n- Light reactions\n- Calvin cycle\n- Chlorophyll"
    assert [t.timestamp for t in checked.topics] == [12.0, None, None]  # 4000 s is past the end


def test_topics_on_an_untimed_transcript_have_no_timestamps() -> None:
    topics = [{"title": f"Topic {i}", "timestamp": 10} for i in range(3)]
    assert all(t.timestamp is None for t in check_answer("topics", answer(topics=topics), UNTIMED).topics)


def test_a_topic_over_seven_words_is_refused() -> None:
    topics = [{"title": "one two three four five six seven eight", "timestamp": None}] + [
        {"title": f"Topic {i}", "timestamp": None} for i in range(3)
    ]
    with pytest.raises(InvalidAnswer, match="at most 7 words"):
        check_answer("topics", answer(topics=topics), LONG)


def test_a_social_post_gets_its_hashtags_appended() -> None:
    post = "x" * 900
    checked = check_answer("social_post", answer(post=post, hashtags=["Biology", "#science", "two words"]), LONG)
    assert checked.value == f"{post}\n\n#Biology #science"


@pytest.mark.parametrize("length", [799, 1201])
def test_a_social_post_outside_800_to_1200_characters_is_refused(length: int) -> None:
    with pytest.raises(InvalidAnswer, match=f"has {length} characters"):
        check_answer("social_post", answer(post="x" * length, hashtags=["a"]), LONG)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("summary", b"not json"),
        ("summary", b'{"summary": 3}'),
        ("summary", b'{"summary": "x", "extra": 1}'),
        ("custom", b'{"output": "   "}'),
        ("mind_map", b'{"nodes": []}'),
    ],
)
def test_malformed_or_empty_answers_are_refused(kind: str, raw: bytes) -> None:
    with pytest.raises(InvalidAnswer):
        check_answer(kind, raw, LONG)


def test_purposes_choose_the_prototypes_outputs() -> None:
    assert Purpose.LEARNING.outputs(False) == ("summary", "topics", "mind_map")
    assert Purpose.SOCIAL_MEDIA.outputs(False) == ("summary", "topics", "social_post")
    assert Purpose.CUSTOM.outputs(True) == ("summary", "topics", "custom")
    assert Purpose.CUSTOM.outputs(False) == ("summary", "topics")


def test_a_short_source_needs_only_a_root_and_one_branch_in_its_mind_map() -> None:
    nodes = [
        {"id": "r", "label": "Test transcript", "parent": None, "timestamp": None},
        {"id": "b", "label": "AI", "parent": "r", "timestamp": None},
    ]
    short = AnswerContext(source_words=7, source_chars=33, duration=0)
    assert len(list(check_answer("mind_map", answer(nodes=nodes), short).value.nodes())) == 2
    with pytest.raises(InvalidAnswer, match="has 2 nodes"):
        check_answer("mind_map", answer(nodes=nodes), LONG)
