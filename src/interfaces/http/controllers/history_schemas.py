"""The views of `/api/v1/history`: a short item for lists (the whole entry is `application.presenters.history`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from application.history import HistoryHit
from application.presenters.history import VideoView
from application.presenters.results import TokensView

EXCERPT_CHARS = 200


class SnippetView(msgspec.Struct):
    field: Annotated[str, Meta(examples=["summary"])]
    text: Annotated[str, Meta(description="A short passage of that field around the first match")]
    highlights: Annotated[
        list[list[int]], Meta(description="Each matching word in `text` as [start, end) character offsets")
    ]


class HistoryItemView(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    created_at: datetime
    video: VideoView
    title: str | None
    purpose: str | None
    language: str
    provider: str
    model: str
    tokens: TokensView
    cost_usd: float
    cached: bool
    summary_excerpt: Annotated[
        str | None, Meta(description=f"The summary's first {EXCERPT_CHARS} characters (… when cut)")
    ]
    snippet: Annotated[SnippetView | None, Meta(description="With `q`: where the entry matched")] = None

    @classmethod
    def of(cls, hit: HistoryHit) -> HistoryItemView:
        entry = hit.entry
        spend = entry.spend.rounded
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            video=VideoView(entry.video_id, entry.video_url),
            title=entry.title,
            purpose=entry.purpose,
            language=entry.language,
            provider=entry.provider,
            model=entry.model,
            tokens=TokensView.of(spend),
            cost_usd=spend.cost_usd,
            cached=entry.cached,
            summary_excerpt=_excerpt(entry.summary),
            snippet=SnippetView(hit.snippet.field, hit.snippet.text, [list(h) for h in hit.snippet.highlights])
            if hit.snippet
            else None,
        )


def _excerpt(text: str | None) -> str | None:
    if text is None or len(text) <= EXCERPT_CHARS:
        return text
    return text[:EXCERPT_CHARS].rstrip() + "…"
