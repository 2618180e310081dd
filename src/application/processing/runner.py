"""Producing one validated output over a chain of providers: re-ask once on an invalid answer, fall back on
failure, skip providers whose circuit is open, map and reduce transcripts longer than a model's budget."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from application.errors import ApplicationError, ProviderFailure
from application.processing.catalog import ProviderCatalog
from application.processing.chunking import split_segments
from application.processing.ports import (
    ApiKey,
    CallRecord,
    CircuitBreaker,
    Generation,
    GenerationRequest,
    ProviderStats,
)
from application.processing.prompts import (
    CHARS_PER_TOKEN,
    correction,
    estimate_tokens,
    render_transcript,
    system_prompt,
    user_prompt,
)
from domain.errors import InvalidAnswer
from domain.outputs import AnswerContext, Checked, answer_schema, check_answer
from domain.transcripts import Segment, Transcript, format_timestamp

_PROMPT_OVERHEAD_TOKENS = 1500  # instructions, title, description and schema around the transcript


@dataclass(frozen=True, slots=True)
class Attempt:
    """One step of the chain: a provider, its model, and whose key pays (None: the server's)."""

    provider: str
    model: str
    key: ApiKey | None
    breaker_key: str


def breaker_key(provider: str, user_id: uuid.UUID | None = None) -> str:
    """Circuits are per provider and payer: one user's exhausted key must not stop everyone else's calls."""
    if provider == "local":
        return provider
    return f"{provider}:user:{user_id}" if user_id else f"{provider}:server"


@dataclass(frozen=True, slots=True)
class Failure:
    provider: str
    model: str
    reason: str  # a ProviderFailure kind, or "cooling_down" when the circuit was open and no call was made
    retry_after: float | None = None


class AllProvidersFailed(ApplicationError):
    """No provider in the chain produced a valid answer. Nothing is stored or counted."""

    def __init__(self, output: str, failures: Sequence[Failure]) -> None:
        tried = ", ".join(f"{f.provider} ({f.reason})" for f in failures) or "no provider is configured"
        super().__init__(f"No AI provider could produce the {output.replace('_', ' ')}: {tried}")
        self.failures = tuple(failures)
        waits = [f.retry_after for f in failures if f.retry_after]
        self.retry_after = max(1, int(min(waits) + 0.999)) if waits else None

    @property
    def temporary(self) -> bool:
        """Every provider is cooling down or rate-limited: come back later (503) rather than "it broke" (502)."""
        return bool(self.failures) and all(f.reason in ("cooling_down", "rate_limited") for f in self.failures)


@dataclass(slots=True)
class Spend:
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(slots=True)
class Job:
    """The state one request shares among its outputs: what was spent, and each provider's condensed transcript."""

    transcript: Transcript
    language: str
    custom_prompt: str | None
    spend: Spend = field(default_factory=Spend)
    condensed: dict[str, asyncio.Task[str]] = field(default_factory=dict)

    @property
    def answer_context(self) -> AnswerContext:
        t = self.transcript
        return AnswerContext(t.words, len(t.text), t.duration if t.has_timestamps else 0.0)


@dataclass(frozen=True, slots=True)
class Produced:
    output: str
    checked: Checked
    attempt: Attempt
    failures: tuple[Failure, ...]


class OutputRunner:
    def __init__(
        self,
        catalog: ProviderCatalog,
        breaker: CircuitBreaker,
        stats: ProviderStats,
        max_output_tokens: int,
        map_concurrency: int,
    ) -> None:
        self._catalog = catalog
        self._breaker = breaker
        self._stats = stats
        self._max_output_tokens = max_output_tokens
        self._map_slots = map_concurrency

    async def produce(self, output: str, chain: Sequence[Attempt], job: Job) -> Produced:
        failures: list[Failure] = []
        for position, attempt in enumerate(chain):
            wait = self._breaker.retry_in(attempt.breaker_key)
            if wait > 0:
                failures.append(Failure(attempt.provider, attempt.model, "cooling_down", wait))
                continue
            has_next = position + 1 < len(chain)
            try:
                body = await self._source_text(attempt, job, has_next)
                checked = await self._checked(output, attempt, job, job.transcript, body, has_next)
            except ProviderFailure as failure:
                failures.append(Failure(attempt.provider, attempt.model, failure.kind, failure.retry_after))
                continue
            return Produced(output, checked, attempt, tuple(failures))
        raise AllProvidersFailed(output, failures)

    async def _checked(
        self, kind: str, attempt: Attempt, job: Job, transcript: Transcript, body: str, has_next: bool
    ) -> Checked:
        """Ask, validate, and on an invalid answer ask once more with the reason."""
        context = job.answer_context
        request = GenerationRequest(
            kind=kind,
            system=system_prompt(job.language),
            prompt=user_prompt(kind, job.transcript, body, job.custom_prompt),
            schema=answer_schema(kind),
            transcript=transcript,
            language=job.language,
            custom_prompt=job.custom_prompt,
            max_output_tokens=self._max_output_tokens,
        )
        for last_try in (False, True):
            generation = await self._call(attempt, request, job, has_next)
            try:
                return check_answer(kind, generation.text, context)
            except InvalidAnswer as problem:
                if last_try:
                    self._stats.record(CallRecord(attempt.provider, attempt.model, 0.0, "invalid_output"))
                    raise ProviderFailure(attempt.provider, "invalid_output", str(problem)) from None
                request = replace(request, prompt=correction(request.prompt, generation.text, str(problem)))
        raise AssertionError("unreachable")

    async def _call(self, attempt: Attempt, request: GenerationRequest, job: Job, has_next: bool) -> Generation:
        adapter = self._catalog.adapters[attempt.provider]
        started = time.perf_counter()
        try:
            generation = await adapter.generate(request, attempt.model, attempt.key)
        except ProviderFailure as failure:
            latency = (time.perf_counter() - started) * 1000
            self._stats.record(CallRecord(attempt.provider, attempt.model, latency, failure.kind, fell_back=has_next))
            if failure.trips_breaker:
                self._breaker.failure(attempt.breaker_key, failure.retry_after)
            else:  # it answered: the provider is up, only this request or this key was refused
                self._breaker.success(attempt.breaker_key)
            raise
        latency = (time.perf_counter() - started) * 1000
        self._breaker.success(attempt.breaker_key)
        profile = self._catalog.profiles[attempt.provider]
        cost = profile.cost(attempt.model, generation.tokens_in, generation.tokens_out)
        self._stats.record(
            CallRecord(
                attempt.provider, attempt.model, latency, "ok", generation.tokens_in, generation.tokens_out, cost
            )
        )
        job.spend.tokens_in += generation.tokens_in
        job.spend.tokens_out += generation.tokens_out
        job.spend.cost_usd += cost
        return generation

    async def _source_text(self, attempt: Attempt, job: Job, has_next: bool) -> str:
        """The transcript as this provider's model reads it: whole if it fits, else its chunks' notes (computed
        once per provider and request, shared by the outputs)."""
        budget_tokens = self._catalog.profiles[attempt.provider].context_tokens
        budget_tokens -= self._max_output_tokens + _PROMPT_OVERHEAD_TOKENS
        rendered = render_transcript(job.transcript)
        if estimate_tokens(rendered) <= budget_tokens:
            return rendered
        task = job.condensed.get(attempt.provider)
        if task is None:
            max_chars = max(2000, int(budget_tokens * CHARS_PER_TOKEN * 0.9))
            task = asyncio.ensure_future(self._condense(attempt, job, max_chars, has_next))
            job.condensed[attempt.provider] = task
        return await asyncio.shield(task)

    async def _condense(self, attempt: Attempt, job: Job, max_chars: int, has_next: bool) -> str:
        slots = asyncio.Semaphore(self._map_slots)
        source = job.transcript

        async def notes_for(segments: tuple[Segment, ...]) -> str:
            part = Transcript(
                text=" ".join(s.text for s in segments),
                segments=segments,
                language=source.language,
                source=source.source,
            )
            async with slots:
                checked = await self._checked("chunk_notes", attempt, job, part, render_transcript(part), has_next)
            start = f"[{format_timestamp(part.segments[0].start)}] " if source.has_timestamps else ""
            topics = "; ".join(
                f"{t.title}" + (f" [{format_timestamp(t.timestamp)}]" if t.timestamp is not None else "")
                for t in checked.topics
            )
            return f"{start}{checked.value}\nTopics: {topics}"

        tasks = [asyncio.ensure_future(notes_for(chunk)) for chunk in split_segments(source.segments, max_chars)]
        try:
            notes = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # one part failed: the provider failed, stop paying for the rest
                task.cancel()
            raise
        return "\n\n".join(notes)
