"""Ports of the processing use cases: transcript sources, AI providers, history, provider health."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from application.errors import TranscriptSourceUnreachable
from domain.history import HistoryEntry
from domain.transcripts import CaptionsUnavailable, Transcript, VideoRef, VideoUnavailable
from domain.usage import Spend


class TranscriptSource(Protocol):
    async def fetch(self, video: VideoRef, language: str) -> Transcript:
        """Captions in `language`, else the best available (manual before generated), with title and description.
        Raises one of TRANSCRIPT_SOURCE_ERRORS."""


TRANSCRIPT_SOURCE_ERRORS = (VideoUnavailable, CaptionsUnavailable, TranscriptSourceUnreachable)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Structured answers wanted from a provider in one call. LLMs read `system`, then `context`, then `prompt`, and
    answer with one JSON object matching `schema`: a property per output of the job, of which this call fills
    `kinds`. `system`, `context` and `schema` are the same bytes on every call of a job that reads the same source
    (the first call, a re-ask), so providers can serve that prefix from their prompt cache; only `prompt` changes.
    The offline `local` provider reads `transcript` (and `custom_prompt`) directly."""

    kinds: tuple[str, ...]  # Output values, or ("chunk_notes",) for the map step of a long transcript
    system: str
    context: str  # the source: title, description and transcript (or notes of it); cacheable
    prompt: str  # what this call asks for
    schema: Mapping[str, Any]
    transcript: Transcript
    language: str
    custom_prompt: str | None = None
    max_output_tokens: int = 4096
    # Worth a cache write: false for one part of a long transcript, which only a re-ask would read again (Anthropic
    # bills a write at 1.25x, so marking every part would make the map step dearer, not cheaper).
    cache_source: bool = True


@dataclass(frozen=True, slots=True)
class Generation:
    text: str  # the JSON answer, not yet validated
    tokens_in: int  # every input token, cached ones included
    tokens_out: int
    cache_read: int = 0  # input tokens served from the provider's prompt cache (billed at a discount)
    cache_write: int = 0  # input tokens written to it (Anthropic bills them at a premium)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A user's provider key in memory (None stands for the server's own). Never printed: its repr hides it."""

    secret: str = field(repr=False)


class LLMProvider(Protocol):
    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        """Raises ProviderFailure (timeout, rate limit, 5xx, connection, rejected key, bad request)."""

    async def check_key(self, secret: str) -> None:
        """A cheap authenticated call. Raises ProviderKeyRejected if the provider refuses the key, ProviderFailure
        if it could not be asked."""


class LanguageIdentifier(Protocol):
    def identify(self, text: str) -> str | None:
        """The ISO 639-1 code of the language `text` is written in, or None when it cannot tell."""


class HistoryRepository(Protocol):
    async def add(self, entry: HistoryEntry) -> None: ...


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One provider call, as the stats see it."""

    provider: str
    model: str
    latency_ms: float
    outcome: str  # "ok", "invalid_output", or a ProviderFailure kind
    spend: Spend = field(default_factory=Spend)


@dataclass(frozen=True, slots=True)
class ProviderStatsView:
    provider: str
    calls: int
    errors: int
    fallbacks: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    spend: Spend

    @property
    def error_rate(self) -> float:
        return round(self.errors / self.calls, 4) if self.calls else 0.0


class ProviderStats(Protocol):
    """Passive health: what the calls made for users looked like over a rolling window."""

    def record(self, call: CallRecord) -> None: ...

    def fallback(self, provider: str) -> None:
        """An output gave up on `provider` and asked the next one."""

    async def snapshot(self) -> Sequence[ProviderStatsView]: ...

    @property
    def window_seconds(self) -> int: ...


class CircuitBreaker(Protocol):
    """Per provider and key owner: after repeated failures (or a Retry-After) calls are skipped until a cooldown
    ends; then one trial call decides whether it closes again."""

    def retry_in(self, key: str) -> float:
        """0 when a call may go ahead now, else the seconds until one may."""

    def success(self, key: str) -> None: ...

    def failure(self, key: str, retry_after: float | None, open_now: bool = False) -> None:
        """`open_now`: skip the failure threshold (a timeout: waiting for more of them costs a timeout each)."""

    def is_open(self, key: str) -> bool:
        """Calls are being skipped now (for display; it does not start a trial call)."""
