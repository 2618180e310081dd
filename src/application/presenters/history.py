"""One history entry as JSON: what `GET /api/v1/history/{id}` answers and what a JSON export holds, so the two
never drift apart (the export is written in application, hence the view lives here, not beside the controller)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from application.presenters.results import AttemptView, KeyTopicView, OutputAttributionView, TokensView
from domain.history import HistoryEntry


class VideoView(msgspec.Struct):
    id: str | None
    url: str | None


class HistoryEntryView(msgspec.Struct):
    id: uuid.UUID
    created_at: datetime
    video: VideoView
    title: str | None
    purpose: str | None
    outputs: list[str]
    language: str
    provider: Annotated[str, Meta(description="The provider that served most outputs; `attribution` has each's")]
    model: str
    tokens: TokensView
    cost_usd: float
    duration_ms: int
    cached: bool
    transcript_hash: str
    summary: str | None
    topics: str | None
    key_topics: list[KeyTopicView] | None
    mind_map: Annotated[
        dict[str, Any] | None, Meta(description="The mind map's React Flow graph, as the processing answer showed it")
    ]
    social_post: str | None
    custom_prompt: str | None
    custom_output: str | None
    attribution: Annotated[
        dict[str, OutputAttributionView] | None,
        Meta(description="Per output: who served it and who paid; null on entries older than attribution"),
    ]
    map_step: list[AttemptView] | None
    combined_calls: list[AttemptView] | None

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryView:
        attribution = entry.attribution
        spend = entry.spend.rounded
        if attribution is not None:  # the history row's columns do not keep the cached tokens; its attribution does
            spend = replace(spend, tokens_cached=attribution.spend.tokens_cached)
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            video=VideoView(entry.video_id, entry.video_url),
            title=entry.title,
            purpose=entry.purpose,
            outputs=entry.outputs.split(),
            language=entry.language,
            provider=entry.provider,
            model=entry.model,
            tokens=TokensView.of(spend),
            cost_usd=spend.cost_usd,
            duration_ms=entry.duration_ms,
            cached=entry.cached,
            transcript_hash=entry.transcript_hash,
            summary=entry.summary,
            topics=entry.topics,
            key_topics=[KeyTopicView(t["title"], t.get("timestamp")) for t in entry.key_topics]
            if entry.key_topics
            else None,
            mind_map=entry.mind_map,
            social_post=entry.social_post,
            custom_prompt=entry.custom_prompt,
            custom_output=entry.custom_output,
            attribution={o.output: OutputAttributionView.of(o) for o in attribution.outputs} if attribution else None,
            map_step=[AttemptView.of(a) for a in attribution.shared] if attribution else None,
            combined_calls=[AttemptView.of(a) for a in attribution.combined] if attribution else None,
        )
