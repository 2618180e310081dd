"""Bodies of the processing, transcript and provider routes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from application.presenters.mind_map import react_flow_graph
from application.processing.overview import ProviderOverview
from application.processing.process import Fallback, Notice, ProcessResult
from domain.outputs import Output
from domain.transcripts import MAX_TRANSCRIPT_CHARS, Transcript
from domain.usage import AttemptRecord, OutputAttribution, Spend

TranscriptText = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TRANSCRIPT_CHARS,
        description="Plain text, SRT or WebVTT (at most 500 000 characters)",
        examples=["Dzisiaj porozmawiamy o fotosyntezie..."],
    ),
]
PrototypeModel = Literal["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"]
OutputName = Literal["summary", "topics", "mind_map", "social_post", "custom"]
PurposeName = Literal["learning", "social_media", "custom"]
PromptText = Annotated[str, Meta(max_length=2000, examples=["List every book mentioned"])]
PrototypePromptText = Annotated[str, Meta(max_length=10_000, examples=["List every book mentioned"])]


class PrototypeProcessBody(msgspec.Struct, rename={"custom_prompt": "customPrompt"}):
    """The prototype's request, field for field (unknown fields are ignored, as the prototype did)."""

    transcript: TranscriptText
    purpose: PurposeName
    language: Literal["pl", "en"] = "pl"
    custom_prompt: PrototypePromptText | None = None  # the prototype allowed 10 000 characters
    model: PrototypeModel = "gemini-2.5-flash"


class PrototypeProcessView(msgspec.Struct, omit_defaults=True, rename="camel"):
    summary: str
    topics: str
    mind_map: dict[str, Any] | None = None
    social_post: str | None = None
    custom_output: str | None = None

    @classmethod
    def of(cls, result: ProcessResult) -> PrototypeProcessView:
        values = result.values
        return cls(
            summary=values[Output.SUMMARY],
            topics=values[Output.TOPICS],
            mind_map=_graph(values),
            social_post=values.get(Output.SOCIAL_POST),
            custom_output=values.get(Output.CUSTOM),
        )


def _graph(values: Mapping[str, Any]) -> dict[str, Any] | None:
    return react_flow_graph(values[Output.MIND_MAP]) if Output.MIND_MAP in values else None


class ProcessBody(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(max_length=2048, examples=["https://youtu.be/dQw4w9WgXcQ"])] | None = None
    transcript: TranscriptText | None = None
    outputs: Annotated[list[OutputName], Meta(max_length=5)] | None = None
    purpose: PurposeName | None = None
    language: Annotated[str, Meta(max_length=10, examples=["pl"])] | None = None
    custom_prompt: PromptText | None = None
    provider: Annotated[str, Meta(max_length=30, examples=["anthropic"])] | None = None
    model: Annotated[str, Meta(max_length=100, examples=["claude-sonnet-4-5"])] | None = None
    force_refresh: bool = False  # results are not cached yet, so every request is fresh


class KeyTopicView(msgspec.Struct):
    title: str
    timestamp: float | None


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


class TokensView(msgspec.Struct):
    input: int
    output: int
    total: int

    @classmethod
    def of(cls, spend: Spend) -> TokensView:
        return cls(spend.tokens_in, spend.tokens_out, spend.tokens_total)


class AttemptView(msgspec.Struct):
    """One provider tried: its calls (re-asks, timed-out and cancelled calls included) and what they cost."""

    provider: str
    model: str
    payer: Annotated[str, Meta(description="user_key, server_key or none (the offline provider)")]
    outcome: Annotated[str, Meta(description="served, or why the next provider was asked")]
    calls: int
    tokens: TokensView
    cost_usd: float

    @classmethod
    def of(cls, record: AttemptRecord) -> AttemptView:
        spend = record.spend.rounded
        return cls(
            record.provider,
            record.model,
            record.payer,
            record.outcome,
            record.calls,
            TokensView.of(spend),
            spend.cost_usd,
        )


class OutputAttributionView(msgspec.Struct):
    provider: str
    model: str
    payer: str
    tokens: TokensView
    cost_usd: float
    attempts: list[AttemptView]

    @classmethod
    def of(cls, attribution: OutputAttribution) -> OutputAttributionView:
        spend = attribution.spend.rounded
        return cls(
            provider=attribution.provider,
            model=attribution.model,
            payer=attribution.payer,
            tokens=TokensView.of(spend),
            cost_usd=spend.cost_usd,
            attempts=[AttemptView.of(a) for a in attribution.attempts],
        )


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
    cached: bool
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
            cached=False,
            tokens=TokensView.of(result.spend),
            cost_usd=result.spend.cost_usd,
            duration_ms=result.duration_ms,
            history_id=result.history_id,
            transcript=TranscriptInfoView.of(result.transcript),
            served_by=dict(result.served_by),
            fallbacks=[FallbackView.of(f) for f in result.fallbacks],
            attribution={o.output: OutputAttributionView.of(o) for o in result.attribution.outputs},
            map_step=[AttemptView.of(a) for a in result.attribution.shared],
            language=result.language,
            notices=[NoticeView.of(n) for n in result.notices],
            summary=values.get(Output.SUMMARY),
            topics=values.get(Output.TOPICS),
            key_topics=[KeyTopicView(t.title, t.timestamp) for t in result.key_topics] or None,
            mind_map=_graph(values),
            social_post=values.get(Output.SOCIAL_POST),
            custom_output=values.get(Output.CUSTOM),
        )


class PrototypeTranscriptView(msgspec.Struct):
    transcript: str
    title: str | None
    description: str | None

    @classmethod
    def of(cls, transcript: Transcript) -> PrototypeTranscriptView:
        return cls(transcript.text, transcript.title, transcript.description)


class SegmentView(msgspec.Struct):
    start: float
    duration: float
    text: str


class TranscriptView(msgspec.Struct):
    transcript: str
    title: str | None
    description: str | None
    video_id: str | None
    url: str | None
    language: str | None
    words: int
    segments: list[SegmentView]

    @classmethod
    def of(cls, transcript: Transcript) -> TranscriptView:
        return cls(
            transcript=transcript.text,
            title=transcript.title,
            description=transcript.description,
            video_id=transcript.video_id,
            url=transcript.video_url,
            language=transcript.language,
            words=transcript.words,
            segments=[SegmentView(s.start, s.duration, s.text) for s in transcript.segments],
        )


class LatencyView(msgspec.Struct):
    p50_ms: float | None
    p95_ms: float | None


class ProviderView(msgspec.Struct):
    name: str
    models: list[str]
    default_model: str
    server_key: bool
    your_key: bool
    in_default_chain: bool
    cooling_down: bool
    calls: int
    errors: int
    error_rate: float
    fallbacks: int
    latency: LatencyView
    tokens: TokensView
    cost_usd: float
    prices_per_million_tokens: dict[str, list[float]]

    @classmethod
    def of(cls, overview: ProviderOverview) -> ProviderView:
        profile, stats = overview.profile, overview.stats
        return cls(
            name=profile.name,
            models=list(profile.models),
            default_model=profile.default_model,
            server_key=profile.has_server_key and profile.name != "local",
            your_key=overview.your_key,
            in_default_chain=overview.in_default_chain,
            cooling_down=overview.cooling_down,
            calls=stats.calls,
            errors=stats.errors,
            error_rate=stats.error_rate,
            fallbacks=stats.fallbacks,
            latency=LatencyView(stats.latency_p50_ms, stats.latency_p95_ms),
            tokens=TokensView.of(stats.spend),
            cost_usd=stats.spend.cost_usd,
            prices_per_million_tokens={m: list(profile.prices[m]) for m in profile.models if m in profile.prices},
        )


class ProvidersView(msgspec.Struct):
    window_seconds: int
    providers: list[ProviderView]
