"""Splitting a long transcript on segment boundaries so each part fits a model's budget."""

from __future__ import annotations

from domain.transcripts import Segment


def split_segments(segments: tuple[Segment, ...], max_chars: int) -> list[tuple[Segment, ...]]:
    """Consecutive groups of at most `max_chars` characters of text; a segment longer than that on its own (a
    pasted plain text is one segment) is cut between words first, keeping its start time."""
    pieces: list[Segment] = []
    for segment in segments:
        if len(segment.text) <= max_chars:
            pieces.append(segment)
            continue
        words, current = segment.text.split(), list[str]()
        size = 0
        for word in words:
            if current and size + len(word) + 1 > max_chars:
                pieces.append(Segment(segment.start, segment.duration, " ".join(current)))
                current, size = [], 0
            current.append(word)
            size += len(word) + 1
        if current:
            pieces.append(Segment(segment.start, segment.duration, " ".join(current)))
    chunks: list[tuple[Segment, ...]] = []
    chunk: list[Segment] = []
    size = 0
    for piece in pieces:
        if chunk and size + len(piece.text) + 1 > max_chars:
            chunks.append(tuple(chunk))
            chunk, size = [], 0
        chunk.append(piece)
        size += len(piece.text) + 1
    if chunk:
        chunks.append(tuple(chunk))
    return chunks
