"""The `local` provider: offline, deterministic and extractive (SPEC §4 Providers). It reads the transcript itself,
not the prompt an LLM would get, takes sentences and phrases out of it and answers in the same JSON shapes as the
LLM providers, so the same contract checks apply. It quotes the transcript: it writes in the transcript's language
whatever language was asked for, because it cannot translate and must not pretend to."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache

import msgspec

from application.errors import ProviderFailure
from application.processing.ports import ApiKey, Generation, GenerationRequest
from domain.outputs import (
    MIND_MAP_NODES,
    SOCIAL_POST_CHARS,
    SUMMARY_WORDS,
    TOPIC_MAX_WORDS,
    ChunkNotesAnswer,
    CustomAnswer,
    MindMapAnswer,
    MindMapNodeAnswer,
    SocialPostAnswer,
    SummaryAnswer,
    TopicItem,
    TopicsAnswer,
)
from domain.transcripts import Transcript, format_timestamp
from infrastructure.ai.extractive import Keyphrase, Sentence, TextAnalysis
from infrastructure.ai.stopwords import PROMPT_WORDS

SUMMARY_TARGET_WORDS = 140
SOCIAL_POST_TARGET_CHARS = 1000
CUSTOM_WORDS = (100, 180, 250)  # low, target, high
MIND_MAP_BRANCHES = 6
MIND_MAP_LEAVES = 3  # per branch
LEAF_WORDS = 12
HASHTAGS = 5


class LocalProvider:
    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        if request.kind not in _ANSWERS:
            raise ProviderFailure("local", "bad_request", f"no offline answer for {request.kind!r}")
        # CPU-bound: a thread keeps the event loop answering other requests meanwhile.
        return await asyncio.to_thread(_generate, request)

    async def check_key(self, secret: str) -> None:
        """There is no key to check."""


# One answer at a time: the work is CPU-bound under the GIL anyway, and this way the outputs of one request, asked
# for concurrently, share one analysis instead of each computing it in parallel.
_ONE_AT_A_TIME = threading.Lock()


def _generate(request: GenerationRequest) -> Generation:
    with _ONE_AT_A_TIME:
        answer = _ANSWERS[request.kind](_analysis(request.transcript), request)
    return Generation(text=msgspec.json.encode(answer).decode(), tokens_in=0, tokens_out=0)


@lru_cache(maxsize=2)  # an analysis holds ~0.5 kB per word; two cover a request overlapping another
def _analysis(transcript: Transcript) -> TextAnalysis:
    return TextAnalysis(transcript)


def _summary(analysis: TextAnalysis, request: GenerationRequest) -> SummaryAnswer:
    return SummaryAnswer(summary=_summary_text(analysis))


def _summary_text(analysis: TextAnalysis) -> str:
    low, high = SUMMARY_WORDS
    if analysis.transcript.words <= low:
        return _join(analysis.sentences)
    picked = analysis.select(analysis.ranked, lambda s: s.words, low, SUMMARY_TARGET_WORDS, high)
    return _join(analysis.sentences[i] for i in picked)


def _topics(analysis: TextAnalysis, request: GenerationRequest) -> TopicsAnswer:
    return TopicsAnswer(topics=_topic_items(analysis))


def _topic_items(analysis: TextAnalysis) -> list[TopicItem]:
    words = analysis.transcript.words
    count = 3 if words < 60 else 5 if words < 300 else 7 if words < 1000 else 9 if words < 5000 else 12
    items = [TopicItem(p.title, _seconds(analysis, p.start)) for p in analysis.keyphrases(count)]
    if not items:  # a word or two, nothing to extract: the text's opening words are its one topic
        first = analysis.sentences[0]
        items = [TopicItem(" ".join(first.text.split()[:TOPIC_MAX_WORDS]), _seconds(analysis, first.start))]
    return items


def _mind_map(analysis: TextAnalysis, request: GenerationRequest) -> MindMapAnswer:
    """Root: the video's title, else the keyphrase heard most. Branches: the next keyphrases. Leaves: the best sentences
    naming the branch, shortened. Subleaves: another repeated keyphrase heard in the leaf's sentence."""
    phrases = analysis.keyphrases(MIND_MAP_BRANCHES * 3)
    title = analysis.transcript.title
    if title and title.strip():
        root_label = title
    elif phrases:
        root_label = max(phrases, key=lambda p: p.mentions).title  # the theme: the phrase heard most (first on ties)
    else:
        root_label = _short(analysis.sentences[0])
    nodes = [MindMapNodeAnswer("root", root_label, None, None)]
    branches = [p for p in phrases if p.title != root_label][:MIND_MAP_BRANCHES]
    spare = [p for p in phrases if p.title != root_label and p not in branches]
    used: set[int] = set()
    for number, branch in enumerate(branches, start=1):
        branch_id = f"b{number}"
        nodes.append(MindMapNodeAnswer(branch_id, branch.title, "root", _seconds(analysis, branch.start)))
        fresh = [i for i in branch.sentences if i not in used]
        leaves = sorted(fresh, key=analysis.rank_of.__getitem__)[:MIND_MAP_LEAVES]
        for leaf_number, index in enumerate(leaves, start=1):
            used.add(index)
            sentence = analysis.sentences[index]
            leaf_id = f"{branch_id}.{leaf_number}"
            nodes.append(MindMapNodeAnswer(leaf_id, _short(sentence), branch_id, _seconds(analysis, sentence.start)))
            detail = next((p for p in spare if index in p.sentences and _may_detail(p, branch)), None)
            if detail is not None:
                spare.remove(detail)
                nodes.append(
                    MindMapNodeAnswer(f"{leaf_id}.1", detail.title, leaf_id, _seconds(analysis, sentence.start))
                )
    # A text too short for several keyphrases still gets the minimum map: its sentences become branches.
    for index in analysis.ranked:
        if len(nodes) >= MIND_MAP_NODES[0]:
            break
        if index not in used:
            sentence = analysis.sentences[index]
            nodes.append(MindMapNodeAnswer(f"s{index}", _short(sentence), "root", _seconds(analysis, sentence.start)))
    return MindMapAnswer(nodes=nodes[: MIND_MAP_NODES[1]])


def _may_detail(phrase: Keyphrase, branch: Keyphrase) -> bool:
    """A subleaf is a phrase said more than once that adds words its branch does not have."""
    return phrase.mentions >= 2 and not set(phrase.key) & set(branch.key)


def _social_post(analysis: TextAnalysis, request: GenerationRequest) -> SocialPostAnswer:
    """One topic: sentences naming the top keyphrase come first, then the most central ones. Layout: the opening
    sentence alone, then the rest as one paragraph."""
    low, high = SOCIAL_POST_CHARS
    low = min(low, len(analysis.transcript.text))
    phrases = analysis.keyphrases(HASHTAGS)
    about_topic = set(phrases[0].sentences) if phrases else set()
    order = sorted(analysis.ranked, key=lambda i: i not in about_topic)  # stable: keeps rank within each group
    # Each sentence costs its length plus one separator ("\n\n" once, " " after); the first has none to pay.
    picked = analysis.select(order, lambda s: len(s.text) + 1, low + 1, SOCIAL_POST_TARGET_CHARS, high)
    sentences = [analysis.sentences[i] for i in picked]
    post = "\n\n".join(part for part in (_join(sentences[:1]), _join(sentences[1:])) if part)
    return SocialPostAnswer(post=post, hashtags=_hashtags(analysis, phrases))


def _hashtags(analysis: TextAnalysis, phrases: list[Keyphrase]) -> list[str]:
    tags: dict[str, str] = {}
    for phrase in phrases:
        words = ("".join(ch for ch in word if ch.isalnum()) for word in phrase.title.split())
        tag = "".join(word[:1].upper() + word[1:] for word in words)
        if 0 < len(tag) <= 60:
            tags.setdefault(tag.lower(), "#" + tag)
    if not tags:  # nothing repeated or nameable: tag the first real word
        word = next((w for w in analysis.transcript.text.split() if w.isalnum()), "transcript")
        tags[word.lower()] = "#" + word[:60]
    return list(tags.values())


def _custom(analysis: TextAnalysis, request: GenerationRequest) -> CustomAnswer:
    """The passages that share the most (IDF-weighted) words with the request, topped up with central ones."""
    wanted = " ".join(w for w in (request.custom_prompt or "").split() if w.lower().strip("?!.,:;") not in PROMPT_WORDS)
    relevance = analysis.relevance(analysis.content_stems(wanted))
    scores = analysis.scores
    order = sorted(range(len(scores)), key=lambda i: (-relevance[i], -scores[i], i))
    low, target, high = CUSTOM_WORDS
    if analysis.transcript.words <= low:
        picked = list(range(len(analysis.sentences)))
    else:
        # A timestamp opening a passage counts as a word.
        stamp = 1 if analysis.transcript.has_timestamps else 0
        picked = analysis.select(order, lambda s: s.words + stamp, low, target, high)
    return CustomAnswer(output=_passages(analysis, picked))


def _passages(analysis: TextAnalysis, picked: list[int]) -> str:
    """Consecutive sentences form one passage, opened by its time in the video when there is one."""
    passages: list[list[Sentence]] = []
    for index in picked:
        if passages and index - 1 == passages[-1][-1].index:
            passages[-1].append(analysis.sentences[index])
        else:
            passages.append([analysis.sentences[index]])
    timed = analysis.transcript.has_timestamps
    return "\n\n".join((f"[{format_timestamp(p[0].start)}] " if timed else "") + _join(p) for p in passages)


def _chunk_notes(analysis: TextAnalysis, request: GenerationRequest) -> ChunkNotesAnswer:
    return ChunkNotesAnswer(notes=_summary_text(analysis), topics=_topic_items(analysis))


def _join(sentences: Iterable[Sentence]) -> str:
    return " ".join(s.text for s in sentences)


def _seconds(analysis: TextAnalysis, start: float) -> float | None:
    return float(int(start)) if analysis.transcript.has_timestamps else None


def _short(sentence: Sentence) -> str:
    """A label: the sentence if short, else its first clause if that is short, else its first words."""
    words = sentence.text.split()
    if len(words) <= LEAF_WORDS:
        return sentence.text
    clause_end = next((i for i, w in enumerate(words[:LEAF_WORDS]) if i >= 4 and w[-1] in ",;:"), None)
    if clause_end is not None:
        return " ".join(words[: clause_end + 1])[:-1]
    return " ".join(words[: LEAF_WORDS - 2]) + "…"


_ANSWERS: dict[str, Callable[[TextAnalysis, GenerationRequest], msgspec.Struct]] = {
    "summary": _summary,
    "topics": _topics,
    "mind_map": _mind_map,
    "social_post": _social_post,
    "custom": _custom,
    "chunk_notes": _chunk_notes,
}
