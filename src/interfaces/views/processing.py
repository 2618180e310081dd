"""The JSON of a processing result: what `POST /api/v1/process` answers and `scribe process --json` prints, one
shape for every driver (and the worker's job results later)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from application.presenters.mind_map import react_flow_graph
from application.presenters.results import AttemptView, KeyTopicView, OutputAttributionView, TokensView
from application.processing.process import Fallback, Notice, ProcessResult
from domain.outputs import Output
from domain.transcripts import Transcript


def mind_map_graph(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The mind map as the prototype's React Flow graph, when there is one."""
    return react_flow_graph(values[Output.MIND_MAP]) if Output.MIND_MAP in values else None


class TranscriptInfoView(msgspec.Struct):
    source: str
    video_id: str | None
    url: str | None
    title: str | None
    language: str | None
    words: int
    transcript_hash: str

    @classmethod
    def of(cls, transcript: Transcript) -> TranscriptInfoView:
        return cls(
            source=transcript.source,
            video_id=transcript.video_id,
            url=transcript.video_url,
            title=transcript.title,
            language=transcript.language,
            words=transcript.words,
            transcript_hash=transcript.hash,
        )


class FallbackView(msgspec.Struct):
    output: str
    provider: str
    model: str
    reason: str

    @classmethod
    def of(cls, fallback: Fallback) -> FallbackView:
        return cls(fallback.output, fallback.provider, fallback.model, fallback.reason)


class NoticeView(msgspec.Struct):
    code: Annotated[str, Meta(examples=["not_translated"])]
    output: str
    message: str

    @classmethod
    def of(cls, notice: Notice) -> NoticeView:
        return cls(notice.code, notice.output, notice.message)


class ProcessView(msgspec.Struct, omit_defaults=True):
    provider: str
    model: str
    cached: Annotated[
        bool,
        Meta(
            description="Another request's answer to identical inputs (cached, or shared while it ran): nothing spent"
        ),
    ]
    tokens: TokensView
    cost_usd: float
    duration_ms: int
    history_id: uuid.UUID | None
    transcript: TranscriptInfoView
    served_by: dict[str, str]
    fallbacks: list[FallbackView]
    attribution: Annotated[
        dict[str, OutputAttributionView],
        Meta(description="Per output: who served it, who paid, each provider tried and what its calls cost"),
    ]
    map_step: Annotated[
        list[AttemptView],
        Meta(description="A long transcript's notes, made once per provider and shared by its outputs"),
    ]
    combined_calls: Annotated[
        list[AttemptView],
        Meta(description="Per provider, the calls that asked for several outputs at once, each counted once here"),
    ]
    language: Annotated[str, Meta(description="The language the outputs are written in (most of them, if mixed)")]
    notices: Annotated[
        list[NoticeView],
        Meta(description="E.g. `not_translated`: an output written in the transcript's language, not the one asked"),
    ]
    summary: str | None = None
    topics: str | None = None
    key_topics: list[KeyTopicView] | None = None
    mind_map: dict[str, Any] | None = None
    social_post: str | None = None
    custom_output: str | None = None

    @classmethod
    def of(cls, result: ProcessResult) -> ProcessView:
        values = result.values
        return cls(
            provider=result.provider,
            model=result.model,
            cached=result.cached,
            tokens=TokensView.of(result.spend),
            cost_usd=result.spend.cost_usd,
            duration_ms=result.duration_ms,
            history_id=result.history_id,
            transcript=TranscriptInfoView.of(result.transcript),
            served_by=dict(result.served_by),
            fallbacks=[FallbackView.of(f) for f in result.fallbacks],
            attribution={o.output: OutputAttributionView.of(o) for o in result.attribution.outputs},
            map_step=[AttemptView.of(a) for a in result.attribution.shared],
            combined_calls=[AttemptView.of(a) for a in result.attribution.combined],
            language=result.language,
            notices=[NoticeView.of(n) for n in result.notices],
            summary=values.get(Output.SUMMARY),
            topics=values.get(Output.TOPICS),
            key_topics=[KeyTopicView(t.title, t.timestamp) for t in result.key_topics] or None,
            mind_map=mind_map_graph(values),
            social_post=values.get(Output.SOCIAL_POST),
            custom_output=values.get(Output.CUSTOM),
        )
