"""The offline provider read as a user would, on the evaluation set (tests/data/evaluation): eight transcripts written
for it, Polish and English, each with hand-written reference topics and section boundaries in a JSON sidecar."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest
import simplemma

from application.processing.ports import GenerationRequest
from domain.outputs import AnswerContext, check_answer
from domain.transcripts import Transcript, parse_transcript
from infrastructure.ai.language import Py3LangidIdentifier, identify_language
from infrastructure.ai.local import LocalProvider
from infrastructure.ai.stopwords import DEPENDENT_OPENERS, FILLER, STOPWORDS
from infrastructure.bootstrap.catalog import build_catalog
from infrastructure.bootstrap.settings import load_settings

DATA = Path(__file__).resolve().parents[2] / "data" / "evaluation"
NAMES = sorted(p.stem for p in DATA.glob("*.json"))
UNPUNCTUATED = ["pl_autocaptions_kawa", "en_song_lighthouse"]
WITH_FILLER = [name for name in NAMES if "filler" in json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))]
LABEL_WORDS = {"root": 4, "branch": 5, "leaf": 6, "subleaf": 4}
_WORD = re.compile(r"\w+(?:[-']\w+)*")
_GLUE = frozenset(re.findall(r"\w+", "a an the of and or to in on at for w na do z ze i o od dla"))


@cache
def reference(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


@cache
def transcript(name: str) -> Transcript:
    source = next(p for p in DATA.glob(f"{name}.*") if p.suffix != ".json")
    return parse_transcript(source.read_text(encoding="utf-8"))


async def output(kind: str, name: str, prompt: str | None = None) -> Any:
    source = transcript(name)
    language = reference(name)["language"]
    request = GenerationRequest((kind,), "", "", "", {}, source, language, custom_prompt=prompt)
    generation = await LocalProvider().generate(request, "local", None)
    context = AnswerContext(source.words, len(source.text), source.duration if source.has_timestamps else 0.0)
    return check_answer(kind, msgspec.json.encode(msgspec.json.decode(generation.text)[kind]), context)


async def every_text(name: str) -> list[str]:
    """Everything a user reads, per output."""
    summary, topics, mind_map, post = [await output(k, name) for k in ("summary", "topics", "mind_map", "social_post")]
    custom = await output("custom", name, "what is it about?")
    labels = [n.label for n in mind_map.value.nodes()]
    return [summary.value, *(t.title for t in topics.topics), *labels, post.value, custom.value.split("\n\n", 1)[1]]


def lemmas(text: str, language: str) -> frozenset[str]:
    words = _WORD.findall(text.lower())
    return frozenset(simplemma.lemmatize(w, lang=language).lower() for w in words if w not in _GLUE)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def test_the_evaluation_set_is_what_the_tests_claim() -> None:
    assert len(NAMES) >= 8
    genres = {reference(n)["genre"] for n in NAMES}
    assert {"lecture", "interview", "how-to", "auto-captions", "song"} <= genres
    assert any("filler" in g for g in genres)
    assert {reference(n)["language"] for n in NAMES} == {"pl", "en"}
    for name in UNPUNCTUATED:
        assert not re.search(r"[.!?]", transcript(name).text)
    for name in NAMES:  # every section boundary is a real place in its transcript
        text = " ".join(words_of(transcript(name).text))
        assert all(" ".join(words_of(s["starts"])) in text for s in reference(name)["sections"])


@pytest.mark.parametrize("name", NAMES)
def test_the_language_is_recognised_without_being_declared(name: str) -> None:
    assert identify_language(transcript(name).text) == reference(name)["language"]


@pytest.mark.parametrize("name", NAMES)
async def test_topics_are_one_per_lemma_group_and_never_filler(name: str) -> None:
    language = reference(name)["language"]
    titles = [t.title for t in (await output("topics", name)).topics]
    groups = [lemmas(title, language) for title in titles]
    for number, group in enumerate(groups):
        assert all(not (group <= other or other <= group) for other in groups[number + 1 :]), titles
    for title in titles:
        assert not re.search(FILLER, title.lower())
        assert any(w not in STOPWORDS[language] for w in words_of(title)), title
        assert len(title.split()) <= 7


async def test_topic_recall_against_the_references_is_at_least_six_in_ten() -> None:
    recalls = []
    for name in NAMES:
        language = reference(name)["language"]
        produced = [lemmas(t.title, language) for t in (await output("topics", name)).topics]

        def matches(wanted: frozenset[str], produced: list[frozenset[str]] = produced) -> bool:
            return any(len(wanted & got) * 2 >= len(wanted | got) for got in produced)

        wanted = [[lemmas(alt, language) for alt in ref.split("|")] for ref in reference(name)["topics"]]
        recalls.append(sum(any(matches(alt) for alt in ref) for ref in wanted) / len(wanted))
    assert sum(recalls) / len(recalls) >= 0.6, recalls


@pytest.mark.parametrize("name", UNPUNCTUATED)
async def test_unpunctuated_speech_gets_no_invented_sentence_ends(name: str) -> None:
    for text in await every_text(name):
        assert not re.search(r"[.!?;]", text), text


@pytest.mark.parametrize("name", NAMES)
async def test_no_output_shows_a_non_speech_marker(name: str) -> None:
    for text in await every_text(name):
        spoken = re.sub(r"\[\d+:\d\d(?::\d\d)?\] ", "", text)  # passages open with their time in the video
        assert not re.search(r"♪|♫|\[|\]|\(applause\)|music\b", spoken, re.IGNORECASE), text


@pytest.mark.parametrize("name", WITH_FILLER)
async def test_intro_and_outro_filler_stays_out_of_every_output(name: str) -> None:
    for text in await every_text(name):
        assert not any(phrase in text.lower() for phrase in reference(name)["filler"]), text


def sections_quoted(summary: str, name: str) -> set[int]:
    joined = " " + " ".join(words_of(transcript(name).text)) + " "
    sections = reference(name)["sections"]
    starts = [joined.index(" " + " ".join(words_of(s["starts"])) + " ") for s in sections]
    used = set()
    for piece in re.split(r"(?<=[.!?])\s+|\s+…\s+", summary):
        at = joined.find(" " + " ".join(words_of(piece)[:5]) + " ")
        assert at >= 0, f"not a quote: {piece!r}"
        used.add(max(i for i, start in enumerate(starts) if start <= at))
    return used


@pytest.mark.parametrize("name", ["en_lecture_ocean_currents", "pl_lecture_fotosynteza"])
async def test_the_lecture_summary_quotes_every_section_in_order(name: str) -> None:
    summary = (await output("summary", name)).value
    content = {i for i, s in enumerate(reference(name)["sections"]) if s["content"]}
    assert content <= sections_quoted(summary, name)


@pytest.mark.parametrize("name", NAMES)
async def test_summaries_never_open_with_a_sentence_that_points_back(name: str) -> None:
    summary = (await output("summary", name)).value
    first = words_of(summary)[0]
    assert first not in DEPENDENT_OPENERS[reference(name)["language"]], summary
    assert not summary.lower().startswith(("po drugie", "po czwarte", "oznacza to"))


@pytest.mark.parametrize("name", NAMES)
async def test_mind_maps_have_distinct_short_labels_and_branches_with_leaves(name: str) -> None:
    nodes = list((await output("mind_map", name)).value.nodes())
    labels = [n.label.casefold() for n in nodes]
    assert len(labels) == len(set(labels)), labels
    for node in nodes:
        assert len(node.label.split()) <= LABEL_WORDS[node.kind], node
    branches = [n for n in nodes if n.kind == "branch"]
    assert branches
    for branch in branches:
        assert 2 <= len(branch.children) <= 4 or len(nodes) <= 5, branch
    for leaf in (n for n in nodes if n.kind == "leaf"):
        for subleaf in leaf.children:
            assert subleaf.label.casefold() not in leaf.label.casefold().split()


@pytest.mark.parametrize("name", NAMES)
async def test_the_post_is_about_one_topic_with_a_hook_and_whole_phrase_hashtags(name: str) -> None:
    post = (await output("social_post", name)).value
    body, tags = post.rsplit("\n\n", 1)
    hook = body.split("\n\n")[0]
    low = min(800, len(transcript(name).text) // 2)
    assert low <= len(body) <= 1200
    source = " ".join(words_of(transcript(name).text))
    assert " ".join(words_of(hook)) in source  # the hook is quoted, not made up
    titles = [t.title for t in (await output("topics", name)).topics]
    camel = {"#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"\w+", t)) for t in titles}
    assert set(tags.split()) <= camel, (tags, titles)


CUSTOM = [(name, case["prompt"], case["expect"]) for name in NAMES for case in reference(name).get("custom", [])]


@pytest.mark.parametrize(("name", "prompt", "expect"), CUSTOM)
async def test_the_custom_output_quotes_the_most_relevant_passage_first(name: str, prompt: str, expect: str) -> None:
    assert len(CUSTOM) == 5
    notice, first, *_ = (await output("custom", name, prompt)).value.split("\n\n")
    assert "offline" in notice.lower()
    assert expect.lower() in first.lower(), first


async def test_the_catalog_says_which_providers_can_translate(tmp_path: Path) -> None:
    settings = load_settings({"SCRIBE_OPENAI_API_KEY": "sk-test-key"}, config_dir=tmp_path)
    catalog, closers = build_catalog(settings)
    assert catalog.profiles["local"].translates is False
    assert catalog.profiles["openai"].translates is True
    for close in closers:
        await close()


def test_the_language_identifier_port_abstains_on_text_without_language() -> None:
    identifier = Py3LangidIdentifier()
    assert identifier.identify("1 2 3 4 5 6 7 8 9 10") is None
    assert identifier.identify(transcript("pl_howto_detka").text) == "pl"
