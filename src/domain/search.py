"""Accent-insensitive full-text search: one folding for PostgreSQL and SQLite, so `zrodlo` finds `źródło`, and
`źródło` finds `zrodlo`, the same way on both."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 10
SNIPPET_CHARS = 160

# Letters whose accent is not a combining mark, so Unicode decomposition leaves them as they are.
_UNDECOMPOSABLE = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ß": "s", "\u0131": "i"})
_WORD = re.compile(r"[^\W_]+")  # letters and digits: nothing a query language could read as syntax


def fold(text: str) -> str:
    """Lower case without accents, one character for each of `text`'s, so a match's offsets are the original's."""
    return text.translate(_FOLDED)


def _fold_char(char: str) -> str:
    char = char.translate(_UNDECOMPOSABLE)
    base = unicodedata.normalize("NFKD", char)[:1].lower()[:1]
    return base if len(base) == 1 and base.isascii() else char.lower()[:1] or char


class _Folding(dict[int, str]):
    """Each character's folding, worked out once: `str.translate` then folds a text in C, not a Python call per
    character (snippets fold every listed entry's text). Only the Basic Multilingual Plane is remembered, so odd
    input cannot grow it without bound."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if code < 0x10000:
            self[code] = folded
        return folded


_FOLDED = _Folding()


def search_terms(query: str) -> tuple[str, ...]:
    """The words of a query, folded; each matches words that start with it."""
    return tuple(dict.fromkeys(_WORD.findall(fold(query))))[:MAX_QUERY_TERMS]


def searchable_text(*parts: str | None) -> str:
    """What the databases index: the parts folded, one per line."""
    return "\n".join(fold(p) for p in parts if p)


@dataclass(frozen=True, slots=True)
class Snippet:
    """A short passage of `field` around the first match; `highlights` are [start, end) offsets into `text`."""

    field: str
    text: str
    highlights: tuple[tuple[int, int], ...]


def snippet(fields: dict[str, str | None], terms: tuple[str, ...]) -> Snippet | None:
    """The passage of the first field (in the order given) where a term starts a word, with every such word
    in it highlighted."""
    if not terms:
        return None
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")[^\W_]*")
    for name, text in fields.items():
        if not text:
            continue
        folded = fold(text)
        first = pattern.search(folded)
        if first is None:
            continue
        start = max(0, first.start() - SNIPPET_CHARS // 3)
        end = min(len(text), start + SNIPPET_CHARS)
        start = max(0, min(start, end - SNIPPET_CHARS))
        highlights = tuple(
            (m.start() - start, m.end() - start) for m in pattern.finditer(folded, start, end) if m.end() <= end
        )
        return Snippet(name, text[start:end], highlights)
    return None
