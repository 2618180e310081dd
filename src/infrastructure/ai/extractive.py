"""Extractive analysis of a transcript, for the offline provider.

Sentences keep the time of the caption they start in. Text without punctuation (auto captions) is cut into windows
of about WINDOW_WORDS words, preferring caption boundaries and commas. Sentences are ranked by TF-IDF cosine
similarity to the whole text (its centroid), with a bonus near the start, where speakers announce their subject;
this is linear in the length of the text, unlike TextRank's sentence-by-sentence graph. Keyphrases are runs of
content words, optionally joined by one connector ("theory of mind", "chleb na zakwasie"), ranked by a variant of
C-value: longer phrases weigh more, and only the mentions outside a longer repeated phrase count."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from domain.transcripts import Transcript
from infrastructure.ai.stopwords import CONNECTORS, STOPWORDS


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


WINDOW_WORDS = 22
MAX_SENTENCE_WORDS = 40
MAX_PHRASE_TOKENS = 4
DENSE_WORDS = 150  # two mentions this close: the topic is being discussed there, not just named
POSITION_BONUS = 0.2
REDUNDANT_SIMILARITY = 0.6

_APOSTROPHE = "\u2019"
_TOKEN = re.compile(rf"\w+(?:[-'{_APOSTROPHE}]\w+)*")
_CLOSERS = "\"'\u201d\u2019»)]"
_TERMINALS = ".!?…"
_SENTENCE_END = re.compile(rf"[{_TERMINALS}]+[{re.escape(_CLOSERS)}]*$")
_ABBREVIATIONS = _word_set(
    "e.g. i.e. mr. mrs. ms. dr. prof. vs. cf. st. no. np. tj. tzn. tzw. itd. itp. m.in. ul. św. godz. inż. mgr."
)
_CLAUSE_STARTS = _word_set(
    "and but so because then now today first next finally if when which that "
    "a i ale bo więc że żeby czyli jak jeśli jeżeli kiedy gdy który która które potem teraz najpierw następnie"
)
_ENGLISH_MINOR_WORDS = _word_set("a an and as at but by for in of on or the to vs with")
_POLISH_ENDINGS = tuple(
    sorted(
        _word_set("owych owymi owego owemu ami ach ego emu ymi imi ych ich owi om ów ie ia iu ej ą ę y i a u e o"),
        key=len,
        reverse=True,
    )
)
_ENGLISH_NOT_NOUN_ENDINGS = ("ly", "ed")
_POLISH_NOT_NOUN_ENDINGS = ("ć", "łem", "łam", "liśmy", "łyśmy", "emy", "imy", "amy", "ecie", "icie", "acie")


class Token(NamedTuple):  # a tuple: there is one per word, and a frozen dataclass is several times slower to build
    cased: str
    lower: str
    stem: str | None  # None for a stopword
    breaks_after: bool  # punctuation follows: a phrase cannot run on
    word: int  # position of its whitespace-separated word in the transcript


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    text: str  # starts with a capital and ends with punctuation, words as spoken
    words: int
    start: float  # seconds: where the caption holding its first word starts
    tokens: tuple[Token, ...]
    stems: frozenset[str]  # of its content words


@dataclass(frozen=True, slots=True)
class Keyphrase:
    title: str
    key: tuple[str, ...]  # stems, with connectors as spoken
    mentions: int
    start: float  # seconds: its first dense occurrence
    sentences: tuple[int, ...]  # indices of the sentences it occurs in, in order


# Where a phrase is said: (sentence index, first token, last token). A plain tuple: there are tens of thousands.
_Occurrence = tuple[int, int, int]


def detect_language(transcript: Transcript) -> str | None:
    """The transcript's own language when we know its words, else the one whose stopwords it uses most."""
    declared = (transcript.language or "").split("-")[0].lower()  # YouTube may say "en-GB"
    if declared in STOPWORDS:
        return declared
    sample = [t.lower() for t in _TOKEN.findall(transcript.text[:20_000])]
    hits = {language: sum(1 for t in sample if t in words) for language, words in STOPWORDS.items()}
    best = max(sorted(hits), key=hits.__getitem__)
    return best if hits[best] >= max(3, len(sample) // 20) else None


def stem(word: str, language: str | None) -> str:
    """A light suffix stripper: enough to count "memories"/"memory" or "pszczoły"/"pszczołami" as one term."""
    if language == "pl":
        ending = next((e for e in _POLISH_ENDINGS if word.endswith(e) and len(word) - len(e) >= 2), "")
        # ó alternates with o inside a word's forms: pszczół/pszczoły, miód/miodu.
        return word[: len(word) - len(ending)].replace("ó", "o")
    if language == "en":
        if word.endswith(("'s", _APOSTROPHE + "s")):
            word = word[:-2]
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
            return word[:-1]
    return word


class TextAnalysis:
    """Everything the offline answers are built from; the parts only some answers need are computed on demand."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.language = detect_language(transcript)
        self.stopwords = STOPWORDS.get(self.language or "", STOPWORDS["en"] | STOPWORDS["pl"])
        self.connectors = CONNECTORS.get(self.language or "", frozenset())
        self._stems: dict[str, str | None] = {}
        words: list[str] = []
        caption_of: list[int] = []
        for number, segment in enumerate(transcript.segments):
            for word in segment.text.split():
                words.append(word)
                caption_of.append(number)
        self._word_starts = [transcript.segments[c].start for c in caption_of]
        self.sentences = [
            self._sentence(index, words, first, last)
            for index, (first, last) in enumerate(_sentence_spans(words, caption_of))
        ]

    def _sentence(self, index: int, words: list[str], first: int, last: int) -> Sentence:
        tokens = []
        for position in range(first, last):
            word = words[position]
            pieces = [word] if word.isalpha() else _TOKEN.findall(word)  # most words need no regex
            trailing_punctuation = not word[-1].isalnum()
            for number, piece in enumerate(pieces):
                lower = piece.lower()
                tokens.append(
                    Token(
                        piece,
                        lower,
                        self._stem(lower),
                        trailing_punctuation and number == len(pieces) - 1,
                        position,
                    )
                )
        text = _tidy(" ".join(words[first:last]))
        stems = frozenset(t.stem for t in tokens if t.stem is not None)
        return Sentence(index, text, last - first, self._word_starts[first], tuple(tokens), stems)

    def _stem(self, lower: str) -> str | None:
        if lower not in self._stems:
            content = lower not in self.stopwords and len(lower) >= 2 and any(ch.isalpha() for ch in lower)
            self._stems[lower] = stem(lower, self.language) if content else None
        return self._stems[lower]

    # --- sentence ranking ---

    @cached_property
    def _idf(self) -> dict[str, float]:
        frequency: Counter[str] = Counter()
        for sentence in self.sentences:
            frequency.update(sentence.stems)
        total = len(self.sentences)
        return {term: math.log((1 + total) / (1 + count)) + 1 for term, count in frequency.items()}

    @cached_property
    def _vectors(self) -> list[dict[str, float]]:
        idf = self._idf
        vectors = []
        for sentence in self.sentences:
            counts = Counter(t.stem for t in sentence.tokens if t.stem is not None)
            vectors.append({term: count * idf[term] for term, count in counts.items()})
        return vectors

    @cached_property
    def scores(self) -> list[float]:
        centroid: Counter[str] = Counter()
        for vector in self._vectors:
            centroid.update(vector)
        centroid_norm = _norm(centroid) or 1.0
        early = 0.1 * len(self.sentences) + 1
        scores = []
        for sentence, vector in zip(self.sentences, self._vectors, strict=True):
            norm = _norm(vector)
            similarity = sum(w * centroid[t] for t, w in vector.items()) / (norm * centroid_norm) if norm else 0.0
            prior = 1 + POSITION_BONUS * max(0.0, 1 - sentence.index / early)
            scores.append(similarity * prior * min(1.0, sentence.words / 8))
        return scores

    @cached_property
    def ranked(self) -> list[int]:
        """Sentence indices, best first (ties: earlier first)."""
        scores = self.scores
        return sorted(range(len(scores)), key=lambda i: (-scores[i], i))

    @cached_property
    def rank_of(self) -> dict[int, int]:
        """Sentence index → its place in `ranked`."""
        return {index: place for place, index in enumerate(self.ranked)}

    def similarity(self, first: int, second: int) -> float:
        a, b = self._vectors[first], self._vectors[second]
        if len(a) > len(b):
            a, b = b, a
        norms = _norm(a) * _norm(b)
        return sum(w * b.get(t, 0.0) for t, w in a.items()) / norms if norms else 0.0

    def relevance(self, terms: Iterable[str]) -> list[float]:
        """Per sentence: the IDF weight of the given stems it contains."""
        weights = {t: self._idf[t] for t in terms if t in self._idf}
        # Summed in word order, not set order: float sums must not depend on the process's hash seed.
        return [sum(weights.get(t, 0.0) for t in vector) for vector in self._vectors]

    def content_stems(self, text: str) -> set[str]:
        return {s for s in (self._stem(t.lower()) for t in _TOKEN.findall(text)) if s is not None}

    def select(
        self,
        order: Iterable[int],
        size: Callable[[Sentence], int],
        low: int,
        target: int,
        high: int,
    ) -> list[int]:
        """Sentences taken in `order` until `target` (skipping near-repeats and those that would pass `high`),
        topped up to `low` if the first pass fell short; returned in transcript order."""
        candidates = list(order)
        picked: list[int] = []
        total = 0
        for index in candidates:
            if total >= target:
                break
            grows = size(self.sentences[index])
            if total + grows > high or any(self.similarity(index, p) > REDUNDANT_SIMILARITY for p in picked):
                continue
            picked.append(index)
            total += grows
        for index in candidates:
            if total >= low:
                break
            grows = size(self.sentences[index])
            if index not in picked and total + grows <= high:
                picked.append(index)
                total += grows
        return sorted(picked)

    # --- keyphrases ---

    @cached_property
    def _occurrences(self) -> dict[tuple[str, ...], list[_Occurrence]]:
        found: dict[tuple[str, ...], list[_Occurrence]] = {}
        for sentence in self.sentences:
            tokens = sentence.tokens
            keys = [t.stem if t.stem is not None else t.lower for t in tokens]
            for first, token in enumerate(tokens):
                if token.stem is None:
                    continue
                joined = False
                for last in range(first, min(first + MAX_PHRASE_TOKENS, len(tokens))):
                    current = tokens[last]
                    if current.stem is not None:
                        found.setdefault(tuple(keys[first : last + 1]), []).append((sentence.index, first, last))
                    elif current.lower in self.connectors and not joined and last > first:
                        joined = True
                    else:
                        break
                    if current.breaks_after:
                        break
        return found

    def keyphrases(self, limit: int) -> list[Keyphrase]:
        """Up to `limit` distinct keyphrases, best first. Phrases said once count only when there are too few
        repeated ones (short texts)."""
        chosen = self._distinct(self._ranked_repeated, limit)
        if len(chosen) < limit:
            chosen += self._distinct(self._ranked_all, limit - len(chosen), chosen)
        return [self._keyphrase(key) for key in chosen]

    @cached_property
    def _ranked_repeated(self) -> list[tuple[str, ...]]:
        return self._ranked_phrases(2)

    @cached_property
    def _ranked_all(self) -> list[tuple[str, ...]]:
        return self._ranked_phrases(1)

    def _ranked_phrases(self, min_mentions: int) -> list[tuple[str, ...]]:
        """Phrases said at least `min_mentions` times, best first, by content words x the times the phrase is said on
        its own rather than inside a longer such phrase (a variant of C-value). Phrases never said on their own
        ("slow" only in "slow wave sleep") are left out."""
        keys = [key for key, found in self._occurrences.items() if len(found) >= min_mentions]
        # Marking the two spans one token shorter is enough: any span inside a longer counted phrase is inside one
        # a token longer, and that one is said at least as often, so it is counted too.
        inside_longer: set[_Occurrence] = set()
        for key in keys:
            if len(key) > 1:
                for occurrence in self._occurrences[key]:
                    inside_longer.update(self._shorter_by_one(occurrence))

        def weight(key: tuple[str, ...]) -> float:
            alone = sum(1 for o in self._occurrences[key] if o not in inside_longer)
            content_words = sum(1 for part in key if part not in self.connectors)
            return content_words * alone * self._noun_likeness(key)

        weights = {key: weight(key) for key in keys}
        return sorted((k for k in keys if weights[k] > 0), key=lambda k: (-weights[k], self._occurrences[k][0], k))

    def _shorter_by_one(self, occurrence: _Occurrence) -> tuple[_Occurrence, _Occurrence]:
        """The span without its first and without its last content word (and a connector left at its edge)."""
        sentence, first, last = occurrence
        tokens = self.sentences[sentence].tokens
        shorter_first = first + 2 if tokens[first + 1].stem is None else first + 1
        shorter_last = last - 2 if tokens[last - 1].stem is None else last - 1
        return (sentence, shorter_first, last), (sentence, first, shorter_last)

    def _noun_likeness(self, key: tuple[str, ...]) -> float:
        """Single words that look like verbs or adverbs make poor topics; without a tagger, endings are the hint."""
        if len(key) > 1:
            return 1.0
        endings = {"en": _ENGLISH_NOT_NOUN_ENDINGS, "pl": _POLISH_NOT_NOUN_ENDINGS}.get(self.language or "", ())
        return 0.4 if key[0].endswith(endings) else 1.0

    def _distinct(
        self, ranked: list[tuple[str, ...]], limit: int, already: Iterable[tuple[str, ...]] = ()
    ) -> list[tuple[str, ...]]:
        """Let no stem appear in more than three chosen phrases, so that one theme does not fill the list."""
        chosen = list(already)
        uses: Counter[str] = Counter(part for key in chosen for part in key if part not in self.connectors)
        picked: list[tuple[str, ...]] = []
        for key in ranked:
            if len(picked) >= limit:
                break
            if key in chosen:
                continue
            stems = [part for part in key if part not in self.connectors]
            if any(uses[s] >= 3 for s in stems):
                continue
            chosen.append(key)
            picked.append(key)
            uses.update(stems)
        return picked

    def _keyphrase(self, key: tuple[str, ...]) -> Keyphrase:
        found = self._occurrences[key]
        surfaces: Counter[tuple[str, ...]] = Counter()
        cased: dict[str, Counter[str]] = {}
        for sentence, first, last in found:
            tokens = self.sentences[sentence].tokens[first : last + 1]
            surfaces[tuple(t.lower for t in tokens)] += 1
            for position, token in enumerate(tokens, start=first):
                if position > 0:  # a capital at the start of a sentence says nothing about the word
                    cased.setdefault(token.lower, Counter())[token.cased] += 1
        surface = surfaces.most_common(1)[0][0]  # ties: the form heard first
        words = [cased[w].most_common(1)[0][0] if w in cased else w for w in surface]
        return Keyphrase(
            title=self._title_case(words),
            key=key,
            mentions=len(found),
            start=self._dense_start(found),
            sentences=tuple(dict.fromkeys(sentence for sentence, _, _ in found)),
        )

    def _dense_start(self, found: list[_Occurrence]) -> float:
        positions = [self.sentences[sentence].tokens[first].word for sentence, first, _ in found]
        dense = next((p for p, q in itertools.pairwise(positions) if q - p <= DENSE_WORDS), positions[0])
        return self._word_starts[dense]

    def _title_case(self, words: list[str]) -> str:
        """English Title Case (small words lower), other languages sentence case; words spoken with capitals keep
        them (names, acronyms)."""
        if self.language == "en":
            words = [
                w if w != w.lower() or (i > 0 and w in _ENGLISH_MINOR_WORDS) else w[:1].upper() + w[1:]
                for i, w in enumerate(words)
            ]
        else:
            words = [words[0][:1].upper() + words[0][1:], *words[1:]]
        return " ".join(words)


def _norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


def _tidy(text: str) -> str:
    """Caption windows start lowercase and stop mid-clause; give them a capital and a full stop."""
    if not _SENTENCE_END.search(text):
        text = (text[:-1] if text[-1] in ",;:" else text) + "."
    return text[:1].upper() + text[1:]


def _ends_sentence(word: str) -> bool:
    if word[-1].isalnum() or not _SENTENCE_END.search(word) or word.lower() in _ABBREVIATIONS:
        return False
    core = word.rstrip(_TERMINALS + _CLOSERS)
    return not (len(core) == 1 and core.isalpha())  # an initial, as in "J. Smith"


def _sentence_spans(words: list[str], caption_of: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    begin = 0
    for position, word in enumerate(words):
        if _ends_sentence(word):
            spans += _windows(begin, position + 1, words, caption_of)
            begin = position + 1
    if begin < len(words):
        spans += _windows(begin, len(words), words, caption_of)
    return spans


def _windows(begin: int, end: int, words: list[str], caption_of: list[int]) -> list[tuple[int, int]]:
    """A run too long to be one sentence, cut into even windows; each cut moves up to 5 words to the best nearby
    place: a caption boundary or a comma, else before a word that starts a clause."""
    length = end - begin
    if length <= MAX_SENTENCE_WORDS:
        return [(begin, end)]
    count = math.ceil(length / WINDOW_WORDS)
    cuts = [begin]
    for number in range(1, count):
        ideal = begin + round(number * length / count)
        nearby = range(max(cuts[-1] + 8, ideal - 5), min(end - 8, ideal + 5) + 1)
        cuts.append(max(nearby, key=lambda c: (_cut_quality(c, words, caption_of), -abs(c - ideal)), default=ideal))
    cuts.append(end)
    return list(itertools.pairwise(cuts))


def _cut_quality(cut: int, words: list[str], caption_of: list[int]) -> int:
    if caption_of[cut] != caption_of[cut - 1] or words[cut - 1][-1] in ",;:":
        return 2
    return 1 if words[cut].lower() in _CLAUSE_STARTS else 0
