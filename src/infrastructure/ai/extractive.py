"""Extractive analysis of a transcript, for the offline provider.

Cleaning: caption markers ([Music], ♪, (applause)) go first, then speaker labels ("Maria:") opening a sentence.
Segmentation: punctuated text is cut at its sentence ends; a run too long for one sentence is cut at commas or caption
boundaries, and no full stop is invented. Text without punctuation (auto captions, lyrics) is cut where the captions
pause, and runs still too long at caption boundaries or before clause-opening words. (pysbd was measured and left
out: 1.4 s for the 21k-word bench transcript alone, more than a whole request may take.)
Words: lemmas from simplemma (its dictionaries ship in the package), so "dwutlenku węgla" and "dwutlenek węgla" are
one term; the language is the declared one, else py3langid's. simplemma's low-memory backend looks words up in its
compressed data instead of a Python dict per language: the same lemmas, 50 MB instead of 390 MB for Polish and
English in every server process, about 5x slower per first lookup of a word, which `lemma`'s cache then answers.
Ranking: sentences by TF-IDF cosine similarity to the whole text (its centroid), linear in the text's length.
Keyphrases: runs of content lemmas, optionally joined by one connector ("theory of mind", "chleb na zakwasie"),
that read as noun phrases, ranked by a variant of C-value: longer phrases weigh more, and only mentions outside a
longer repeated phrase count. (YAKE was measured and left out: it ranks surface n-grams without lemmas and returns
the overlapping fragments this module must avoid, "slow wave sleep", "wave sleep", "slow wave", in half a second.)
Relevance to a request: BM25 (rank_bm25) over the sentences' lemmas."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import NamedTuple

import simplemma
from rank_bm25 import BM25Okapi

from domain.transcripts import Transcript, without_non_speech
from infrastructure.ai.language import identify_language
from infrastructure.ai.stopwords import (
    CONNECTORS,
    DEPENDENT_OPENERS,
    DEPENDENT_PHRASES,
    ENGLISH_NOT_NOUN_ENDINGS,
    FILLER,
    NOUN_CUES,
    PRONOUNS,
    STOPWORDS,
    VERB_CUES,
)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


WINDOW_WORDS = 22
MAX_SENTENCE_WORDS = 40
MAX_PHRASE_WORDS = 30  # unpunctuated speech: shorter quotes, so that a summary can sample more of the video
MAX_PHRASE_TOKENS = 4  # three content words and a connector
PAUSE_SECONDS = 0.6  # captions this far apart end a phrase of unpunctuated speech
PUNCTUATED_WORDS = 40  # at least one sentence end per this many words: the text is punctuated
DENSE_WORDS = 150  # two mentions this close: the topic is being discussed there, not just named
POSITION_BONUS = 0.2
REDUNDANT_SIMILARITY = 0.6
PRONOUN_REACH = 6  # a pronoun among a sentence's first words refers back
MAX_PHRASES_PER_LEMMA = 2
UNKNOWN_WORD_STEM = 5  # letters an unknown query word must share with a text word, besides its last two
SINGLE_WORD_WEIGHT = 0.5  # a lone word ("water") names a topic less precisely than "deep water formation"

_APOSTROPHE = "\u2019"
_TOKEN = re.compile(rf"\w+(?:[-'{_APOSTROPHE}]\w+)*")
_CLOSERS = "\"'\u201d\u2019»)]"
_TERMINALS = ".!?…"
_SENTENCE_END = re.compile(rf"[{_TERMINALS}]+[{re.escape(_CLOSERS)}]*$")
_SPEAKER = re.compile(r"[A-ZĄĆĘŁŃÓŚŹŻ][\w-]{1,20}:")
_FILLER = re.compile(FILLER)
_ABBREVIATIONS = _word_set(
    "e.g. i.e. mr. mrs. ms. dr. prof. vs. cf. st. no. np. tj. tzn. tzw. itd. itp. m.in. ul. św. godz. inż. mgr."
)
# Not "that", "który", "że": a phrase cut before one would open with words that continue the one before it.
_CLAUSE_STARTS = _word_set(
    "and but so then now today first next finally if when "
    "a i ale bo więc czyli jak jeśli jeżeli kiedy gdy zanim potem teraz najpierw następnie"
)
_POLISH_ADJECTIVE_ENDINGS = ("ny", "wy", "ki", "gi", "ły", "czy", "ty")
_ENGLISH_MINOR_WORDS = _word_set("a an and as at but by for in of on or the to vs with")
# A sentence or caption phrase opening with one of these continues the one before it unless it asks a question
# ("że fotosynteza zachodzi...", "which is why..."): complementisers, relative pronouns and linking markers.
_CONTINUING_OPENERS = {
    "en": _word_set("which who whom whose whereas whereby because than nor"),
    "pl": _word_set(
        "że żeby aby iż gdyż bowiem niż zaś toteż podobnie albo lub ani który która które którego której którym "
        "którą których którzy"
    ),
}
# English words after which an inflected word ending in -s is a verb ("it matters", "a fund that charges").
_SUBJECTS = _word_set("it that which who")
# English words after which a run of content words is a noun phrase ("off high-interest debt", "at the bank").
_ENGLISH_PREPOSITIONS = _word_set(
    "about above across after against along among around at before behind below beside between beyond by during "
    "for from in inside into near of off on onto over past through under with within without"
)


class Token(NamedTuple):  # a tuple: there is one per word, and a frozen dataclass is several times slower to build
    cased: str
    lower: str
    lemma: str | None  # None for a stopword
    breaks_after: bool  # punctuation follows: a phrase cannot run on
    word: int  # position of its whitespace-separated word in the transcript


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    text: str  # as spoken, with the speaker's own punctuation only
    words: int
    start: float  # seconds: where the caption holding its first word starts
    tokens: tuple[Token, ...]
    lemmas: frozenset[str]  # of its content words
    ends: bool  # the speaker's punctuation ends it (False for caption phrases and cut runs)
    filler: bool  # channel talk: greetings, "subscribe", "see you next week"
    dependent: bool  # needs the sentence before it ("These are...", "Po czwarte...", "he" never named)


@dataclass(frozen=True, slots=True)
class Keyphrase:
    title: str
    key: tuple[str, ...]  # lemmas, with connectors as spoken
    lemmas: frozenset[str]  # its content lemmas
    mentions: int
    start: float  # seconds: its first dense occurrence
    sentences: tuple[int, ...]  # indices of the sentences it occurs in, in order


# Where a phrase is said: (sentence index, first token, last token). A plain tuple: there are tens of thousands.
_Occurrence = tuple[int, int, int]


def detect_language(transcript: Transcript) -> str | None:
    """The language the transcript declares (YouTube's "en-GB" is "en"), else the one py3langid recognises."""
    declared = (transcript.language or "").split("-")[0].lower()
    return declared or identify_language(without_non_speech(transcript.text[:20_000]))


@lru_cache(maxsize=200_000)
def lemma(word: str, language: str | None) -> str:
    """The dictionary form of a lowercase word; the word itself in a language simplemma does not know."""
    if language is None:
        return word
    try:
        return simplemma.lemmatize(word, lang=language, low_memory=True).lower()
    except ValueError:
        return word


class TextAnalysis:
    """Everything the offline answers are built from; the parts only some answers need are computed on demand."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.language = detect_language(transcript)
        self.stopwords = STOPWORDS.get(self.language or "", STOPWORDS["en"] | STOPWORDS["pl"])
        self.connectors = CONNECTORS.get(self.language or "", frozenset())
        self._openers = DEPENDENT_OPENERS.get(self.language or "", frozenset())
        self._continuing = _CONTINUING_OPENERS.get(self.language or "", frozenset())
        self._lemmas: dict[str, str | None] = {}
        self._keyphrases: dict[tuple[str, ...], Keyphrase] = {}
        words: list[str] = []
        caption_of: list[int] = []
        for number, segment in enumerate(transcript.segments):
            for word in without_non_speech(segment.text).split():
                words.append(word)
                caption_of.append(number)
        self._word_starts = [transcript.segments[c].start for c in caption_of]
        self.punctuated = sum(1 for w in words if _ends_sentence(w)) * PUNCTUATED_WORDS >= len(words)
        spans = _sentence_spans(words, caption_of) if self.punctuated else _phrase_spans(words, caption_of, transcript)
        self.sentences = [
            self._sentence(index, words, first, last) for index, (first, last) in enumerate(spans) if last > first
        ]

    def _sentence(self, index: int, words: list[str], first: int, last: int) -> Sentence:
        if last - first > 2 and _SPEAKER.fullmatch(words[first]):
            first += 1  # "Maria: It started..." is Maria's sentence, not one about Maria
        tokens = []
        for position in range(first, last):
            word = words[position]
            pieces = [word] if word.isalpha() else _TOKEN.findall(word)  # most words need no regex
            trailing_punctuation = not word[-1].isalnum()
            for number, piece in enumerate(pieces):
                lower = piece.lower()
                tokens.append(
                    Token(
                        piece, lower, self._lemma(lower), trailing_punctuation and number == len(pieces) - 1, position
                    )
                )
        text = " ".join(words[first:last])
        lower = text.lower()
        opening = [t.lower for t in tokens[:PRONOUN_REACH]]
        dependent = bool(opening) and (
            opening[0] in self._openers
            or (opening[0] in self._continuing and not text.endswith("?"))  # "Which one lasts?" asks
            or lower.startswith(DEPENDENT_PHRASES)
            or any(w in PRONOUNS for w in opening)
        )
        return Sentence(
            index=index,
            text=text,
            words=last - first,
            start=self._word_starts[first],
            tokens=tuple(tokens),
            lemmas=frozenset(t.lemma for t in tokens if t.lemma is not None),
            ends=bool(_SENTENCE_END.search(text)),
            filler=bool(_FILLER.search(lower)),
            dependent=dependent,
        )

    def _lemma(self, lower: str) -> str | None:
        if lower not in self._lemmas:
            content = lower not in self.stopwords and len(lower) >= 2 and any(ch.isalpha() for ch in lower)
            if content and "-" in lower:  # "seventy-two", "one-time": made of words that carry no topic
                content = not all(part in self.stopwords for part in lower.split("-"))
            found = lemma(lower, self.language) if content else None
            self._lemmas[lower] = found if found not in self.stopwords else None
        return self._lemmas[lower]

    @cached_property
    def content(self) -> list[int]:
        """Sentences worth quoting: not channel talk, and with a content word in them. A text that is nothing but
        that ("Hello", "the the the") is quoted as it is: the prototype's clients process any text with a word."""
        worth = [s.index for s in self.sentences if not s.filler and s.lemmas]
        return worth or [s.index for s in self.sentences if any(ch.isalpha() for ch in s.text)]

    # --- sentence ranking ---

    @cached_property
    def _idf(self) -> dict[str, float]:
        frequency: Counter[str] = Counter()
        for sentence in self.sentences:
            frequency.update(sentence.lemmas)
        total = len(self.sentences)
        return {term: math.log((1 + total) / (1 + count)) + 1 for term, count in frequency.items()}

    @cached_property
    def _vectors(self) -> list[dict[str, float]]:
        idf = self._idf
        vectors = []
        for sentence in self.sentences:
            counts = Counter(t.lemma for t in sentence.tokens if t.lemma is not None)
            vectors.append({term: count * idf[term] for term, count in counts.items()})
        return vectors

    @cached_property
    def scores(self) -> list[float]:
        """Centrality of each sentence; 0 for channel talk."""
        centroid: Counter[str] = Counter()
        for sentence, vector in zip(self.sentences, self._vectors, strict=True):
            if not sentence.filler:
                centroid.update(vector)
        centroid_norm = _norm(centroid) or 1.0
        early = 0.1 * len(self.sentences) + 1
        scores = []
        for sentence, vector in zip(self.sentences, self._vectors, strict=True):
            norm = _norm(vector)
            if sentence.filler or not norm:
                scores.append(0.0)
                continue
            similarity = sum(w * centroid[t] for t, w in vector.items()) / (norm * centroid_norm)
            prior = 1 + POSITION_BONUS * max(0.0, 1 - sentence.index / early)
            scores.append(similarity * prior * min(1.0, sentence.words / 8))
        return scores

    @cached_property
    def ranked(self) -> list[int]:
        """Quotable sentence indices, best first (ties: earlier first)."""
        scores = self.scores
        return sorted(self.content, key=lambda i: (-scores[i], i))

    @cached_property
    def rank_of(self) -> dict[int, int]:
        """Sentence index → its place in `ranked` (channel talk comes last)."""
        ranks = {index: place for place, index in enumerate(self.ranked)}
        return {s.index: ranks.get(s.index, len(self.sentences)) for s in self.sentences}

    def similarity(self, first: int, second: int) -> float:
        a, b = self._vectors[first], self._vectors[second]
        if len(a) > len(b):
            a, b = b, a
        norms = _norm(a) * _norm(b)
        return sum(w * b.get(t, 0.0) for t, w in a.items()) / norms if norms else 0.0

    def redundant(self, index: int, picked: Iterable[int]) -> bool:
        return any(self.similarity(index, p) > REDUNDANT_SIMILARITY for p in picked)

    # --- relevance to a request ---

    def content_lemmas(self, text: str) -> list[str]:
        return [found for found in (self._lemma(t.lower()) for t in _TOKEN.findall(text)) if found is not None]

    def relevance(self, query: list[str]) -> list[float]:
        """BM25 score of every sentence for the query lemmas (0 for all when nothing matches)."""
        documents = [[t.lemma for t in s.tokens if t.lemma is not None] for s in self.sentences]
        if not query or not any(documents):
            return [0.0] * len(self.sentences)
        scores = BM25Okapi(documents).get_scores(self._expanded(query))
        return [max(0.0, float(score)) if documents[i] else 0.0 for i, score in enumerate(scores)]

    def _expanded(self, query: list[str]) -> list[str]:
        """Query words the dictionary does not know (names, rare terms: "warrozie") also match the text's words
        that differ only in their last two letters ("warrozą", "warroza")."""
        vocabulary = self._idf
        expanded = list(query)
        for word in query:
            if word not in vocabulary and len(word) >= UNKNOWN_WORD_STEM + 2:
                stem = word[: len(word) - 2]
                expanded += [term for term in vocabulary if term.startswith(stem) and len(term) <= len(word) + 2]
        return expanded

    # --- keyphrases ---

    @cached_property
    def _occurrences(self) -> dict[tuple[str, ...], list[_Occurrence]]:
        found: dict[tuple[str, ...], list[_Occurrence]] = {}
        for index in self.content:
            tokens = self.sentences[index].tokens
            keys = [t.lemma if t.lemma is not None else t.lower for t in tokens]
            for first, token in enumerate(tokens):
                if token.lemma is None:
                    continue
                joined = False
                for last in range(first, min(first + MAX_PHRASE_TOKENS, len(tokens))):
                    current = tokens[last]
                    if current.lemma is not None:
                        found.setdefault(tuple(keys[first : last + 1]), []).append((index, first, last))
                    elif current.lower in self.connectors and not joined and last > first:
                        joined = True
                    else:
                        break
                    if current.breaks_after:
                        break
        return found

    def keyphrases(self, limit: int) -> list[Keyphrase]:
        """Up to `limit` keyphrases, best first, no two of the same lemmas. Phrases said once count only when
        there are too few repeated ones (short texts)."""
        chosen = self._distinct(self._ranked_repeated, limit)
        if len(chosen) < limit:
            chosen += self._distinct(self._ranked_all, limit - len(chosen), chosen)
        return [self.keyphrase(key) for key in chosen]

    def phrases_in(self, sentence: int) -> list[tuple[str, ...]]:
        """Candidate phrases said in a sentence, best first."""
        return self._phrases_by_sentence.get(sentence, [])

    @cached_property
    def _phrases_by_sentence(self) -> dict[int, list[tuple[str, ...]]]:
        by_sentence: dict[int, list[tuple[str, ...]]] = {}
        for key in self._ranked_all:
            for sentence in dict.fromkeys(o[0] for o in self._occurrences[key]):
                by_sentence.setdefault(sentence, []).append(key)
        return by_sentence

    @cached_property
    def _ranked_repeated(self) -> list[tuple[str, ...]]:
        return [key for key in self._ranked_all if len(self._occurrences[key]) >= 2]

    @cached_property
    def _ranked_all(self) -> list[tuple[str, ...]]:
        """Noun phrases, best first, by content words x the times the phrase is said on its own rather than inside
        a longer repeated phrase (a variant of C-value). Phrases never said on their own ("slow" only in "slow wave
        sleep") are left out."""
        keys = [key for key in self._occurrences if self._reads_as_noun_phrase(key)]
        # Marking the two spans one token shorter is enough: any span inside a longer counted phrase is inside one
        # a token longer, and that one is said at least as often, so it is counted too.
        inside_longer: set[_Occurrence] = set()
        for key in keys:
            if len(key) > 1 and len(self._occurrences[key]) >= 2:
                for occurrence in self._occurrences[key]:
                    inside_longer.update(self._shorter_by_one(occurrence))

        def weight(key: tuple[str, ...]) -> float:
            alone = sum(1 for o in self._occurrences[key] if o not in inside_longer)
            words = len(self.content_of(key))
            return words * alone * (SINGLE_WORD_WEIGHT if words == 1 else 1.0)

        weights = {key: weight(key) for key in keys}
        return sorted((k for k in keys if weights[k] > 0), key=lambda k: (-weights[k], self._occurrences[k][0], k))

    def content_of(self, key: tuple[str, ...]) -> frozenset[str]:
        return frozenset(part for part in key if part not in self.connectors)

    def _shorter_by_one(self, occurrence: _Occurrence) -> tuple[_Occurrence, _Occurrence]:
        """The span without its first and without its last content word (and a connector left at its edge)."""
        sentence, first, last = occurrence
        tokens = self.sentences[sentence].tokens
        shorter_first = first + 2 if tokens[first + 1].lemma is None else first + 1
        shorter_last = last - 2 if tokens[last - 1].lemma is None else last - 1
        return (sentence, shorter_first, last), (sentence, first, shorter_last)

    def _reads_as_noun_phrase(self, key: tuple[str, ...]) -> bool:
        """Without a tagger, the hints are dictionary forms (Polish verbs end in -ć), endings (English adverbs,
        participles and adjectives do not end a noun phrase) and the words heard before each word."""
        parts = [part for part in key if part not in self.connectors]
        if len(parts) > 1 and len(set(parts)) < len(parts):
            return False  # "kawa kawa": a repetition, not a phrase
        if self.language == "pl":
            if len(parts) == 1 and parts[0].endswith(_POLISH_ADJECTIVE_ENDINGS):
                return False  # "gorzki", "jasny": a lone adjective is no topic
            return not any(part.endswith("ć") for part in parts)
        if self.language == "en":
            if parts[-1].endswith(ENGLISH_NOT_NOUN_ENDINGS) or parts[0].endswith(("ly", "ed")):
                return False
            verb, determined, head = self._cue_counts
            if len(parts) == 1 and not head[parts[0]]:
                if self._modifier(parts[0]):
                    return False  # a lone word never heard after "the", "a", "of"... and mostly before a noun: "warm"
                if verb[parts[0]] > determined[parts[0]]:
                    return False  # and heard as a verb rather than after one: "it matters", "paying off"
            return not any(self._verb_like(part) for part in parts)
        return True

    def names_a_thing(self, key: tuple[str, ...]) -> bool:
        """Stricter than a topic, for labels said perhaps once: a lone English word must have been heard as a noun
        ("the sinking", not "denser")."""
        parts = self.content_of(key)
        if len(parts) > 1 or self.language != "en":
            return True
        word = next(iter(parts))
        return bool(self._cue_counts[2][word]) and not self._verb_like(word)

    def heard_as_noun(self, key: tuple[str, ...]) -> bool:
        """A lone word with evidence of being a noun, for a label said only once: in English, heard ending a noun
        phrase and not as a verb. Other languages give no such evidence here ("automatycznie", "dzieje")."""
        return self.language == "en" and len(self.content_of(key)) == 1 and self.names_a_thing(key)

    def _modifier(self, word: str) -> bool:
        before_noun, elsewhere = self._positions[word]
        return before_noun >= elsewhere

    @cached_property
    def _positions(self) -> dict[str, tuple[int, int]]:
        """Per lemma: how often it is heard right before another content word, and how often elsewhere."""
        counts: dict[str, list[int]] = {}
        for sentence in self.sentences:
            tokens = sentence.tokens
            for position, token in enumerate(tokens):
                if token.lemma is not None:
                    after = tokens[position + 1] if position + 1 < len(tokens) else None
                    modifies = after is not None and after.lemma is not None and not token.breaks_after
                    counts.setdefault(token.lemma, [0, 0])[0 if modifies else 1] += 1
        return {word: (pair[0], pair[1]) for word, pair in counts.items()}

    def _verb_like(self, word: str) -> bool:
        verb, noun, _ = self._cue_counts
        return verb[word] > max(1, noun[word])  # once is chance ("you REM..." misheard); twice is a habit

    @cached_property
    def _cue_counts(self) -> tuple[Counter[str], Counter[str], Counter[str]]:
        """Per lemma: how often it was heard as a verb ("to move", "they moved"; participles and adverbs count too),
        after a determiner ("the sleep spindles"), and after one heading its phrase ("the water", not "the warm
        air")."""
        verb: Counter[str] = Counter()
        determined: Counter[str] = Counter()
        head: Counter[str] = Counter()
        for sentence in self.sentences:
            tokens = sentence.tokens
            for position, token in enumerate(tokens):
                if token.lemma is None:
                    continue
                before = tokens[position - 1].lower if position else ""
                after = tokens[position + 1] if position + 1 < len(tokens) else None
                if token.lower.endswith("ed") and token.lemma != token.lower:
                    verb[token.lemma] += 2  # an inflected past form: a verb even when heard once ("mended")
                elif before in VERB_CUES or token.lower.endswith(("ed", "ly")) or _inflected_verb(before, token):
                    verb[token.lemma] += 1
                elif before in NOUN_CUES:
                    determined[token.lemma] += 1
                if (after is None or after.lemma is None or token.breaks_after) and self._heads_a_run(tokens, position):
                    head[token.lemma] += 1
        return verb, determined, head

    @staticmethod
    def _heads_a_run(tokens: tuple[Token, ...], last: int) -> bool:
        """Whether the token ends a run of up to three content words opened by a determiner ("the interest rate")
        or a preposition ("off high-interest debt"); a lone -ing form after a preposition is a gerund ("for
        watching")."""
        first = last
        while (
            first > 0
            and last - first < 2
            and tokens[first - 1].lemma is not None
            and not tokens[first - 1].breaks_after
        ):
            first -= 1
        opener = tokens[first - 1].lower if first else ""
        if opener in NOUN_CUES:
            return True
        return opener in _ENGLISH_PREPOSITIONS and not (first == last and tokens[last].lower.endswith("ing"))

    def _distinct(
        self, ranked: list[tuple[str, ...]], limit: int, already: Iterable[tuple[str, ...]] = ()
    ) -> list[tuple[str, ...]]:
        """One phrase per lemma group: none whose content lemmas contain, or are contained in, a chosen phrase's,
        or share two of them with it ("ocean currents move" after "ocean currents"); and no lemma in more than
        three phrases, so that one theme ("sleep") does not fill the list."""
        chosen = [self.content_of(key) for key in already]
        uses: Counter[str] = Counter(lemma for lemmas in chosen for lemma in lemmas)
        picked: list[tuple[str, ...]] = []
        for key in ranked:
            if len(picked) >= limit:
                break
            lemmas = self.content_of(key)
            if any(lemmas <= other or other <= lemmas or len(lemmas & other) >= 2 for other in chosen):
                continue
            if any(uses[lemma] >= MAX_PHRASES_PER_LEMMA for lemma in lemmas):
                continue
            chosen.append(lemmas)
            uses.update(lemmas)
            picked.append(key)
        return picked

    def keyphrase(self, key: tuple[str, ...]) -> Keyphrase:
        if key not in self._keyphrases:
            self._keyphrases[key] = self._make_keyphrase(key)
        return self._keyphrases[key]

    def _make_keyphrase(self, key: tuple[str, ...]) -> Keyphrase:
        found = self._occurrences[key]
        surfaces: Counter[tuple[str, ...]] = Counter()
        cased: dict[str, Counter[str]] = {}
        for sentence, first, last in found:
            tokens = self.sentences[sentence].tokens[first : last + 1]
            surfaces[tuple(t.lower for t in tokens)] += 1
            for position, token in enumerate(tokens, start=first):
                if position > 0:  # a capital at the start of a sentence says nothing about the word
                    cased.setdefault(token.lower, Counter())[token.cased] += 1
        surface = self._display_form(key, surfaces)
        words = [cased[w].most_common(1)[0][0] if w in cased else w for w in surface]
        return Keyphrase(
            title=self._title_case(words),
            key=key,
            lemmas=self.content_of(key),
            mentions=len(found),
            start=self._dense_start(found),
            sentences=tuple(dict.fromkeys(sentence for sentence, _, _ in found)),
        )

    def _display_form(self, key: tuple[str, ...], surfaces: Counter[tuple[str, ...]]) -> tuple[str, ...]:
        """The form heard most often (ties: first heard), except in Polish, where a form opening with its dictionary
        form ("faza jasna", not "fazy jasnej"; "kawiarka", not "kawiarkę") is preferred when it was heard."""
        if self.language == "pl":
            nominative = [s for s in surfaces if s[0] == key[0]]
            if nominative:
                return max(nominative, key=surfaces.__getitem__)
        return surfaces.most_common(1)[0][0]

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

    # --- choosing sentences ---

    def select(
        self,
        order: Iterable[int],
        size: Callable[[Sentence], int],
        low: int,
        target: int,
        high: int,
    ) -> list[int]:
        """Sentences taken in `order` until `target` (skipping near-repeats, those that would pass `high`, and
        dependent ones whose predecessor is not taken with them), topped up to `low` if the first pass fell short;
        returned in transcript order."""
        candidates = list(order)
        picked: list[int] = []
        total = 0
        for strict in (True, False):
            for index in candidates:
                if total >= (target if strict else low):
                    break
                if index in picked or (strict and self.redundant(index, picked)):
                    continue
                group = self.with_context(index, picked)
                grows = sum(size(self.sentences[i]) for i in group)
                if group and total + grows <= high:
                    picked += group
                    total += grows
        return sorted(picked)

    def with_context(self, index: int, picked: Iterable[int]) -> list[int]:
        """The sentence, preceded by the one it depends on when that is not taken yet; [] when it depends on a
        sentence that cannot be quoted (channel talk, or one that depends on another in turn)."""
        sentence = self.sentences[index]
        if not sentence.dependent or index - 1 in picked:
            return [index]
        previous = self.sentences[index - 1] if index > 0 else None
        if previous is None or previous.dependent or previous.filler:
            return []
        return [index - 1, index]

    def render(self, picked: list[int]) -> str:
        """Quoted sentences in order: their own punctuation only; a gap between phrases that the speaker did not
        close is shown as an ellipsis rather than an invented full stop."""
        parts: list[str] = []
        previous: Sentence | None = None
        for index in picked:
            sentence = self.sentences[index]
            text = sentence.text
            if previous is not None and not previous.ends and previous.index + 1 != index:
                parts.append("…")
            if previous is None or previous.ends:
                text = text[:1].upper() + text[1:]
            parts.append(text)
            previous = sentence
        return " ".join(parts)


def _inflected_verb(before: str, token: Token) -> bool:
    """An English verb by its ending and the word before it: "it matters", "a fund that charges", "paying off",
    "starts investing" (but "the sinking" is a noun)."""
    if token.lemma == token.lower:
        return False
    if before in _SUBJECTS:
        return token.lower.endswith("s")
    return before not in NOUN_CUES and token.lower.endswith("ing")


def _norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


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


def _phrase_spans(words: list[str], caption_of: list[int], transcript: Transcript) -> list[tuple[int, int]]:
    """Unpunctuated speech: runs end where the captions pause; longer runs are cut into windows."""
    segments = transcript.segments
    spans: list[tuple[int, int]] = []
    begin = 0
    for position in range(1, len(words)):
        before, after = segments[caption_of[position - 1]], segments[caption_of[position]]
        if before is not after and after.start - (before.start + before.duration) >= PAUSE_SECONDS:
            spans += _windows(begin, position, words, caption_of, MAX_PHRASE_WORDS)
            begin = position
    if begin < len(words):
        spans += _windows(begin, len(words), words, caption_of, MAX_PHRASE_WORDS)
    return spans


def _windows(
    begin: int, end: int, words: list[str], caption_of: list[int], longest: int = MAX_SENTENCE_WORDS
) -> list[tuple[int, int]]:
    """A run longer than `longest` words, cut into even windows; each cut moves up to 5 words to the best nearby
    place: a comma, else a caption boundary, best before a word that starts a clause."""
    length = end - begin
    if length <= longest:
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
    """A comma first, then a caption boundary, better still one before a clause-opening word."""
    if words[cut - 1][-1] in ",;:":
        return 4
    return 2 * (caption_of[cut] != caption_of[cut - 1]) + (words[cut].lower() in _CLAUSE_STARTS)
