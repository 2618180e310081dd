"""Bodies and views of the processing, transcript and provider routes (the result of `/api/v1/process` is in
`interfaces.views.processing`: the CLI prints it too)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from application.presenters.results import TokensView
from application.processing.overview import ProviderOverview
from application.processing.process import ProcessResult
from domain.outputs import Output, Purpose
from domain.transcripts import MAX_TRANSCRIPT_CHARS, Transcript
from interfaces.views.processing import mind_map_graph

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
PromptText = Annotated[str, Meta(max_length=2000, examples=["List every book mentioned"])]
PrototypePromptText = Annotated[str, Meta(max_length=10_000, examples=["List every book mentioned"])]


class PrototypeProcessBody(msgspec.Struct, rename={"custom_prompt": "customPrompt"}):
    """The prototype's request, field for field (unknown fields are ignored, as the prototype did)."""

    transcript: TranscriptText
    purpose: Purpose
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
            mind_map=mind_map_graph(values),
            social_post=values.get(Output.SOCIAL_POST),
            custom_output=values.get(Output.CUSTOM),
        )


class ProcessBody(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, Meta(max_length=2048, examples=["https://youtu.be/dQw4w9WgXcQ"])] | None = None
    transcript: TranscriptText | None = None
    outputs: Annotated[list[Output], Meta(max_length=5)] | None = None
    purpose: Purpose | None = None
    language: Annotated[str, Meta(max_length=10, examples=["pl"])] | None = None
    custom_prompt: PromptText | None = None
    provider: Annotated[str, Meta(max_length=30, examples=["anthropic"])] | None = None
    model: Annotated[str, Meta(max_length=100, examples=["claude-sonnet-4-5"])] | None = None
    force_refresh: Annotated[
        bool, Meta(description="Produce a new answer even when a cached one exists (the new one replaces it)")
    ] = False


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
