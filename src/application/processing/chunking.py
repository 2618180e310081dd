"""Splitting a long transcript on segment boundaries so each part fits a model's budget."""

from __future__ import annotations

from collections.abc import Callable

from domain.transcripts import Segment


def split_segments(
    segments: tuple[Segment, ...], max_size: int, size: Callable[[str], int] = len
) -> list[tuple[Segment, ...]]:
    """Consecutive groups of segments whose text measures at most `max_size` (by `size`, e.g. estimated tokens).
    A segment too large on its own (pasted plain text is one segment) is cut between words first, and a word too
    large on its own (text without spaces, e.g. Chinese) between characters; the pieces keep its start time."""
    pieces = [piece for segment in segments for piece in _pieces(segment, max_size, size)]
    chunks: list[tuple[Segment, ...]] = []
    chunk: list[Segment] = []
    used = 0
    for piece in pieces:
        measured = size(piece.text) + 1
        if chunk and used + measured > max_size:
            chunks.append(tuple(chunk))
            chunk, used = [], 0
        chunk.append(piece)
        used += measured
    if chunk:
        chunks.append(tuple(chunk))
    return chunks


def _pieces(segment: Segment, max_size: int, size: Callable[[str], int]) -> list[Segment]:
    if size(segment.text) <= max_size:
        return [segment]
    words: list[str] = []
    for word in segment.text.split():
        words += _cut(word, max_size, size) if size(word) > max_size else [word]
    pieces: list[Segment] = []
    current: list[str] = []
    used = 0
    for word in words:
        measured = size(word) + 1
        if current and used + measured > max_size:
            pieces.append(Segment(segment.start, segment.duration, " ".join(current)))
            current, used = [], 0
        current.append(word)
        used += measured
    if current:
        pieces.append(Segment(segment.start, segment.duration, " ".join(current)))
    return pieces


def _cut(word: str, max_size: int, size: Callable[[str], int]) -> list[str]:
    step = max(1, len(word) * max_size // max(1, size(word)) - 1)
    return [word[i : i + step] for i in range(0, len(word), step)]
