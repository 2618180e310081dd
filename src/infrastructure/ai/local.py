"""The `local` provider: offline, deterministic and extractive (SPEC §4 Providers). It reads the transcript itself,
not the prompt an LLM would get, takes sentences and phrases out of it and answers in the same JSON shapes as the
LLM providers, so the same contract checks apply. It quotes the transcript: it writes in the transcript's language
whatever language was asked for, because it cannot translate and must not pretend to (its catalog profile says
`translates=False`), and it answers a custom request with the passages most relevant to it, saying so."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache

import msgspec

from application.errors import ProviderFailure
from application.processing.ports import ApiKey, Generation, GenerationRequest
from domain.outputs import (
    MIND_MAP_NODES,
    SHORT_MIND_MAP_NODES,
    SHORT_SOURCE_WORDS,
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
from domain.transcripts import Transcript, TranscriptUnusable, format_timestamp, parse_transcript
from infrastructure.ai.extractive import Keyphrase, Sentence, TextAnalysis, Token
from infrastructure.ai.stopwords import PROMPT_WORDS

SUMMARY_TARGET_WORDS = 140
SUMMARY_PART_WORDS = 50  # the summary quotes each part of about this many words (at most SUMMARY_PARTS of them)
SUMMARY_PARTS = 6
SOCIAL_POST_TARGET_CHARS = 1000
CUSTOM_WORDS = (100, 180, 250)  # low, target, high
MIND_MAP_BRANCHES = 6
MAIN_TOPIC_CANDIDATES = 8
OPENING_SHARE = 15  # percent of the quotable sentences where a speaker announces the subject
MIND_MAP_LEAVES = (2, 4)  # per branch
# Label limits of the mind-map rules, in words: root, branch, leaf, subleaf.
ROOT_WORDS, BRANCH_WORDS, LEAF_WORDS, SUBLEAF_WORDS = 4, 5, 6, 4
HASHTAGS = 5
HOOK_WORDS = (5, 30)
CUSTOM_NOTICE = {
    "pl": (
        "Dostawca offline (bez modelu AI) nie wykonuje poleceń: poniżej cytuje fragmenty nagrania najbardziej "
        "związane z prośbą, od najtrafniejszego."
    ),
    "en": (
        "The offline provider (no AI model) does not follow instructions: below it quotes the passages of the video "
        "most relevant to the request, most relevant first."
    ),
}


class LocalProvider:
    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        """One answer holding each output asked for, under its name, as an LLM fills in the request's schema."""
        unknown = [kind for kind in request.kinds if kind not in _ANSWERS]
        if unknown:
            raise ProviderFailure("local", "bad_request", f"no offline answer for {unknown[0]!r}")
        # CPU-bound: a thread keeps the event loop answering other requests meanwhile.
        return await asyncio.to_thread(_generate, request)

    async def check_key(self, secret: str) -> None:
        """There is no key to check."""

    async def warm_up(self) -> None:
        """Loads the language model and the Polish and English lemma data (about 2 s, once per process), so the
        first user does not wait for them."""
        await asyncio.to_thread(_warm_up)


# One answer at a time: the work is CPU-bound under the GIL anyway, and this way the outputs of one request, asked
# for concurrently, share one analysis instead of each computing it in parallel.
_ONE_AT_A_TIME = threading.Lock()


def _generate(request: GenerationRequest) -> Generation:
    with _ONE_AT_A_TIME:
        analysis = _analysis(request.transcript)
        if not analysis.content:
            # The domain refuses such transcripts before any provider is asked; this is the last line, and a 422.
            raise TranscriptUnusable("nothing in it reads as speech that can be quoted")
        answer = {kind: _ANSWERS[kind](analysis, request) for kind in request.kinds}
    return Generation(text=msgspec.json.encode(answer).decode(), tokens_in=0, tokens_out=0)


def _warm_up() -> None:
    for text in (
        "Dzisiaj porozmawiamy o fotosyntezie i o tym, jak rośliny zamieniają światło w cukier.",
        "Today we talk about how plants turn light into sugar, and why their leaves are green.",
    ):
        TextAnalysis(parse_transcript(text)).keyphrases(3)


@lru_cache(maxsize=2)  # an analysis holds ~0.5 kB per word; two cover a request overlapping another
def _analysis(transcript: Transcript) -> TextAnalysis:
    return TextAnalysis(transcript)


# --- summary: every part of the video, in order, sentences that stand on their own ---


def _summary(analysis: TextAnalysis, request: GenerationRequest) -> SummaryAnswer:
    return SummaryAnswer(summary=_summary_text(analysis))


def _summary_text(analysis: TextAnalysis) -> str:
    low, high = SUMMARY_WORDS
    content = analysis.content
    words = sum(analysis.sentences[i].words for i in content)
    if words <= low:  # a short text is its own summary; channel talk too if the rest is under half of it
        short = content if words * 2 >= analysis.transcript.words else [s.index for s in analysis.sentences]
        return analysis.render(short)
    parts = _parts(analysis, content, max(1, min(SUMMARY_PARTS, round(words / SUMMARY_PART_WORDS))))
    picked = analysis.select(_round_robin(parts), lambda s: s.words, low, SUMMARY_TARGET_WORDS, high)
    return analysis.render(picked)


def _parts(analysis: TextAnalysis, indices: list[int], count: int) -> list[list[int]]:
    """The sentences cut into `count` stretches of about equal length, each ranked best first, sentences that stand
    on their own before those that would bring the one before them along."""
    total = sum(analysis.sentences[i].words for i in indices)
    parts: list[list[int]] = [[] for _ in range(count)]
    seen = 0
    for index in indices:
        parts[min(count - 1, seen * count // total)].append(index)
        seen += analysis.sentences[index].words
    return [sorted(part, key=lambda i: (analysis.sentences[i].dependent, analysis.rank_of[i])) for part in parts]


def _round_robin(parts: list[list[int]]) -> Iterator[int]:
    """The best sentence of every part, then the second best of every part, and so on."""
    for rank in range(max(len(p) for p in parts)):
        for part in parts:
            if rank < len(part):
                yield part[rank]


# --- topics ---


def _topics(analysis: TextAnalysis, request: GenerationRequest) -> TopicsAnswer:
    return TopicsAnswer(topics=_topic_items(analysis))


def _topic_items(analysis: TextAnalysis) -> list[TopicItem]:
    words = analysis.transcript.words
    count = 3 if words < 60 else 7 if words < 300 else 9 if words < 1000 else 10 if words < 5000 else 12
    items = [TopicItem(p.title, _seconds(analysis, p.start)) for p in analysis.keyphrases(count)]
    if not items:  # a word or two, nothing to extract: the text's opening words are its one topic
        first = analysis.sentences[0]
        items = [TopicItem(" ".join(first.text.split()[:TOPIC_MAX_WORDS]), _seconds(analysis, first.start))]
    return items


# --- mind map: root the main topic, branches the next ones, leaves the phrases said with them ---


class _Labels:
    """Labels already on the map, by their words and by their lemmas: none may appear twice, nor inside another
    ("Spreads South" beside "Bottom and Spreads South")."""

    def __init__(self) -> None:
        self._texts: set[str] = set()
        self._lemmas: list[frozenset[str]] = []

    def free(self, label: str, lemmas: frozenset[str] = frozenset()) -> bool:
        if label.casefold() in self._texts:
            return False
        return not any(lemmas <= other or other <= lemmas for other in self._lemmas) if lemmas else True

    def take(self, label: str, lemmas: frozenset[str] = frozenset()) -> str:
        self._texts.add(label.casefold())
        if lemmas:
            self._lemmas.append(lemmas)
        return label

    def copy(self) -> _Labels:
        copied = _Labels()
        copied.adopt(self)
        return copied

    def adopt(self, other: _Labels) -> None:
        self._texts, self._lemmas = set(other._texts), list(other._lemmas)


def _mind_map(analysis: TextAnalysis, request: GenerationRequest) -> MindMapAnswer:
    phrases = analysis.keyphrases(MIND_MAP_BRANCHES * 2 + 1)
    labels = _Labels()
    root = _main_topic(analysis, phrases)
    if root is not None:
        root_label = labels.take(root.title, root.lemmas)
        phrases.remove(root)
    else:
        root_label = labels.take(_snippet(analysis.sentences[analysis.ranked[0]], ROOT_WORDS))
    nodes = [MindMapNodeAnswer("root", root_label, None, None)]
    candidates = [
        p
        for p in phrases
        if len(p.title.split()) <= BRANCH_WORDS and analysis.names_a_thing(p.key) and labels.free(p.title, p.lemmas)
    ]
    for number, (phrase, leaves) in enumerate(_branches(analysis, candidates, root, labels), start=1):
        branch_id = f"b{number}"
        nodes.append(MindMapNodeAnswer(branch_id, phrase.title, "root", _seconds(analysis, phrase.start)))
        for place, (leaf, sentence, detail) in enumerate(leaves, start=1):
            leaf_id = f"{branch_id}.{place}"
            nodes.append(MindMapNodeAnswer(leaf_id, leaf.title, branch_id, _seconds(analysis, sentence.start)))
            if detail is not None:
                nodes.append(
                    MindMapNodeAnswer(f"{leaf_id}.1", detail.title, leaf_id, _seconds(analysis, sentence.start))
                )
    # A text too short for branches with leaves still gets the minimum map: its best sentences, shortened, then
    # the others; each label once.
    for index in dict.fromkeys([*analysis.ranked, *range(len(analysis.sentences))]):
        if len(nodes) >= MIND_MAP_NODES[0]:
            break
        sentence = analysis.sentences[index]
        label = _snippet(sentence, BRANCH_WORDS)
        if labels.free(label):
            nodes.append(MindMapNodeAnswer(f"s{index}", labels.take(label), "root", _seconds(analysis, sentence.start)))
    # A word or two ("Hello"), or a long text of one phrase over and over: the one thing said, as often as the
    # contract needs branches.
    least = MIND_MAP_NODES[0] if analysis.transcript.words >= SHORT_SOURCE_WORDS else SHORT_MIND_MAP_NODES
    first = analysis.sentences[analysis.content[0]]
    while len(nodes) < least:
        nodes.append(
            MindMapNodeAnswer(
                f"again{len(nodes)}", _snippet(first, BRANCH_WORDS), "root", _seconds(analysis, first.start)
            )
        )
    return MindMapAnswer(nodes=nodes[: MIND_MAP_NODES[1]])


def _main_topic(analysis: TextAnalysis, phrases: list[Keyphrase]) -> Keyphrase | None:
    """The theme: of the strongest phrases short enough for the root, one the speaker names in the opening (where
    the subject is announced) and that is heard most and across most of the video (a section's subject is heard
    often, but only in its section); first on ties."""
    last = max(1, len(analysis.sentences) - 1)
    content = analysis.content or [0]  # a few words of filler still have a first sentence
    opening = content[min(len(content) - 1, max(1, len(content) * OPENING_SHARE // 100))]

    def presence(phrase: Keyphrase) -> tuple[bool, float]:
        spread = (phrase.sentences[-1] - phrase.sentences[0]) / last
        return phrase.sentences[0] <= opening, phrase.mentions * (0.5 + spread)

    fitting = [p for p in phrases[:MAIN_TOPIC_CANDIDATES] if len(p.title.split()) <= ROOT_WORDS]
    return max(fitting, key=presence) if fitting else None


_Leaf = tuple[Keyphrase, Sentence, Keyphrase | None]  # a leaf, the sentence it was heard in, and its subleaf


def _branches(
    analysis: TextAnalysis, candidates: list[Keyphrase], root: Keyphrase | None, labels: _Labels
) -> list[tuple[Keyphrase, list[_Leaf]]]:
    """The strongest candidates that each get enough leaves, with them. A leaf must not take the words of another
    branch ("Water" under one, "Cold Water" the next), so the leaves are found again without a candidate that got
    too few: its words are free for the others then. Takes the labels of the branches and leaves it returns."""
    chosen = list(candidates)
    while True:
        trial = labels.copy()
        branches: list[tuple[Keyphrase, list[_Leaf]]] = []
        kept = chosen[:MIND_MAP_BRANCHES]
        for phrase in kept:
            trial.take(phrase.title, phrase.lemmas)
        for phrase in kept:
            others = [p.lemmas for p in kept if p is not phrase]
            leaves = _leaves(analysis, phrase, root, trial, others)
            details = [_detail(analysis, sentence, (leaf, phrase), trial) for leaf, sentence in leaves]
            branches.append((phrase, [(leaf, s, d) for (leaf, s), d in zip(leaves, details, strict=True)]))
        failed = [phrase for phrase, leaves in branches if len(leaves) < MIND_MAP_LEAVES[0]]
        if not failed:
            labels.adopt(trial)
            return branches
        chosen.remove(failed[-1])  # the weakest first: a stronger branch may still get its leaves then


def _leaves(
    analysis: TextAnalysis,
    branch: Keyphrase,
    root: Keyphrase | None,
    labels: _Labels,
    reserved: list[frozenset[str]],
) -> list[tuple[Keyphrase, Sentence]]:
    """Phrases said in the sentences about the branch (its best sentences first, one phrase from each while there
    are enough), adding words that neither the branch nor the root has. Only when the branch would otherwise go
    without (in a short talk most things are said once): a lone word said once and heard as a noun, and the
    sentence after each one that names the branch, where a speaker says more about what they just named ("Fees
    matter as well. A fund that charges two percent...")."""
    taken = (branch.lemmas, root.lemmas if root else frozenset())
    found: list[tuple[Keyphrase, Sentence]] = []
    names: set[frozenset[str]] = set()
    sentences = sorted(branch.sentences, key=analysis.rank_of.__getitem__)
    quotable = set(analysis.content)
    following = [i + 1 for i in sentences if i + 1 in quotable and i + 1 not in branch.sentences]
    for per_sentence, once in ((1, False), (MIND_MAP_LEAVES[1], False), (MIND_MAP_LEAVES[1], True)):
        for index in [*sentences, *following] if once else sentences:
            added = 0
            for key in analysis.phrases_in(index):
                if len(found) == MIND_MAP_LEAVES[1] or added == per_sentence:
                    break
                lemmas = analysis.content_of(key)
                if any(lemmas & other for other in (*taken, *names)) or not analysis.names_a_thing(key):
                    continue
                if any(lemmas <= other or other <= lemmas for other in reserved):
                    continue
                leaf = analysis.keyphrase(key)
                if len(lemmas) == 1 and leaf.mentions < 2 and not (once and analysis.heard_as_noun(key)):
                    continue  # a word said once in passing ("Okazja") names no idea of the branch
                if len(leaf.title.split()) <= LEAF_WORDS and labels.free(leaf.title, lemmas):
                    found.append((leaf, analysis.sentences[index]))
                    names.add(lemmas)
                    added += 1
        if len(found) >= MIND_MAP_LEAVES[0]:
            break
    for leaf, _ in found:
        labels.take(leaf.title, leaf.lemmas)
    return found


def _detail(
    analysis: TextAnalysis, sentence: Sentence, above: tuple[Keyphrase, Keyphrase], labels: _Labels
) -> Keyphrase | None:
    """A subleaf: another phrase said more than once and heard in the leaf's sentence, sharing no word with the leaf
    or the branch (so never a lone word of its leaf)."""
    for key in analysis.phrases_in(sentence.index):
        lemmas = analysis.content_of(key)
        if any(lemmas & p.lemmas for p in above) or not analysis.names_a_thing(key):
            continue
        detail = analysis.keyphrase(key)
        if detail.mentions >= 2 and len(detail.title.split()) <= SUBLEAF_WORDS and labels.free(detail.title, lemmas):
            labels.take(detail.title, lemmas)
            return detail
    return None


def _snippet(sentence: Sentence, words: int) -> str:
    """The words of a sentence from its first content word up to the next pause, without trailing small words or
    punctuation: "So, three takeaways: start early" gives "Takeaways", not "So"."""
    tokens = sentence.tokens
    first = next((i for i, token in enumerate(tokens) if token.lemma is not None), 0)
    kept: list[Token] = []
    for token in tokens[first : first + words]:
        kept.append(token)
        if token.breaks_after:
            break
    while len(kept) > 1 and kept[-1].lemma is None:
        kept.pop()
    text = " ".join(token.cased for token in kept)
    return text[:1].upper() + text[1:]


# --- social post: one topic, a hook from the text, then what the video says about it ---


def _social_post(analysis: TextAnalysis, request: GenerationRequest) -> SocialPostAnswer:
    low, high = SOCIAL_POST_CHARS
    low = min(low, len(analysis.transcript.text) // 2)
    phrases = analysis.keyphrases(HASHTAGS)
    quotable = set(analysis.content)
    about = [i for i in phrases[0].sentences if i in quotable] if phrases else []
    hook = _hook(analysis, about)
    hook_text = _opening(analysis.sentences[hook])
    spare = len(hook_text) + 2  # the hook and the blank line after it
    following = [i + 1 for i in about if i + 1 in quotable]
    order = [i for i in dict.fromkeys([*about, *following, *analysis.ranked]) if i != hook]
    # Each sentence costs its length plus a separator.
    body = analysis.select(
        order, lambda s: len(s.text) + 1, low - spare, SOCIAL_POST_TARGET_CHARS - spare, high - spare - 2
    )
    body = [i for i in body if i != hook]
    post = f"{hook_text}\n\n{analysis.render(body)}" if body else hook_text
    return SocialPostAnswer(post=post, hashtags=_hashtags(analysis, phrases))


def _hook(analysis: TextAnalysis, about: list[int]) -> int:
    """A sentence about the topic that stands on its own and is short enough to stop a reader: a question if the
    speaker asked one, else the best-ranked; else the best-ranked sentence of the whole video."""
    low, high = HOOK_WORDS

    def fits(index: int) -> bool:
        sentence = analysis.sentences[index]
        return not sentence.dependent and low <= sentence.words <= high

    ranked_about = sorted((i for i in about if fits(i)), key=analysis.rank_of.__getitem__)
    questions = [i for i in ranked_about if analysis.sentences[i].text.endswith("?")]
    fallback = next((i for i in analysis.ranked if fits(i)), analysis.ranked[0])
    return (questions or ranked_about or [fallback])[0]


def _opening(sentence: Sentence) -> str:
    text = sentence.text[:1].upper() + sentence.text[1:]
    return text if sentence.ends else text + "…"


def _hashtags(analysis: TextAnalysis, phrases: list[Keyphrase]) -> list[str]:
    """Whole topic phrases in CamelCase (#OceanCurrents, #DwutlenekWęgla), the post's topic first."""
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


# --- custom: the passages most relevant to the request, under a plain statement of what this is ---


def _custom(analysis: TextAnalysis, request: GenerationRequest) -> CustomAnswer:
    wanted = " ".join(w for w in (request.custom_prompt or "").split() if w.lower().strip("?!.,:;") not in PROMPT_WORDS)
    relevance = analysis.relevance(analysis.content_lemmas(wanted))
    scores = analysis.scores
    order = sorted(analysis.content, key=lambda i: (-relevance[i], -scores[i], i))
    low, target, high = CUSTOM_WORDS
    stamp = 1 if analysis.transcript.has_timestamps else 0  # a timestamp opening a passage counts as a word
    passages: list[list[int]] = []
    taken: set[int] = set()
    total = 0
    for index in order:
        if total >= target:
            break
        if analysis.redundant(index, taken):
            continue  # a chorus or a repeated point is quoted once
        group = [i for i in analysis.with_context(index, taken) or [index] if i not in taken]
        grows = sum(analysis.sentences[i].words for i in group) + stamp
        if not group or (total + grows > high and total >= low):
            continue
        passages.append(group)
        taken.update(group)
        total += grows
    notice = CUSTOM_NOTICE.get(request.language, CUSTOM_NOTICE["en"])
    timed = analysis.transcript.has_timestamps
    quoted = [
        (f"[{format_timestamp(analysis.sentences[p[0]].start)}] " if timed else "") + analysis.render(p)
        for p in passages
    ]
    return CustomAnswer(output="\n\n".join([notice, *quoted]))


def _chunk_notes(analysis: TextAnalysis, request: GenerationRequest) -> ChunkNotesAnswer:
    return ChunkNotesAnswer(notes=_summary_text(analysis), topics=_topic_items(analysis))


def _seconds(analysis: TextAnalysis, start: float) -> float | None:
    return float(int(start)) if analysis.transcript.has_timestamps else None


_ANSWERS: dict[str, Callable[[TextAnalysis, GenerationRequest], msgspec.Struct]] = {
    "summary": _summary,
    "topics": _topics,
    "mind_map": _mind_map,
    "social_post": _social_post,
    "custom": _custom,
    "chunk_notes": _chunk_notes,
}
