"""Producing a request's validated outputs over a chain of providers: every output asked in one call (the
transcript is sent once), the invalid ones asked again together once, the rest moving on to the next provider on
failure; providers whose circuit is open are skipped, transcripts longer than a model's budget are mapped and
reduced. Every upstream call the provider may bill is written to the job's ledger, which says who served and who
paid."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import msgspec

from application.errors import ApplicationError, ProviderFailure
from application.processing.catalog import ProviderCatalog, ProviderProfile
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
    answer_envelope,
    correction,
    estimate_tokens,
    render_transcript,
    source_block,
    system_prompt,
    task_prompt,
)
from domain.errors import InvalidAnswer
from domain.outputs import AnswerContext, Checked, check_answer
from domain.transcripts import Segment, Transcript, format_timestamp
from domain.usage import AttemptRecord, Attribution, OutputAttribution, Payer, Spend

OUT_OF_TIME = "out_of_time"  # the failure kind when the request's time budget ends before an answer
_PROMPT_OVERHEAD_TOKENS = 1500  # instructions, title, description and schema around the transcript
_MAX_REDUCE_ROUNDS = 3


MAP_STEP = "chunk_notes"  # the kind of the map step's calls, shared by the outputs of one provider


@dataclass(frozen=True, slots=True)
class Attempt:
    """One step of the chain: a provider, its model, and whose key pays (None: the server's)."""

    provider: str
    model: str
    key: ApiKey | None
    breaker_key: str

    @property
    def payer(self) -> Payer:
        if self.key is not None:
            return Payer.USER_KEY
        return Payer.NONE if self.provider == "local" else Payer.SERVER_KEY


def breaker_key(provider: str, user_id: uuid.UUID | None = None) -> str:
    """Circuits are per provider and payer: one user's exhausted key must not stop everyone else's calls."""
    if provider == "local":
        return provider
    return f"{provider}:user:{user_id}" if user_id else f"{provider}:server"


@dataclass(frozen=True, slots=True)
class Failure:
    output: str
    attempt: Attempt
    reason: str  # a ProviderFailure kind, or "cooling_down" when the circuit was open and no call was made
    retry_after: float | None = None

    @property
    def provider(self) -> str:
        return self.attempt.provider


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


@dataclass(frozen=True, slots=True)
class Call:
    """One upstream call that the provider may bill: answered (its reported tokens), or timed out or cancelled
    after it was sent (the request's estimated input tokens; the provider may have read it all)."""

    kinds: tuple[str, ...]  # the outputs it asked for, or (MAP_STEP,)
    attempt: Attempt
    spend: Spend


@dataclass(slots=True)
class Job:
    """The state one request shares among its outputs: the ledger of calls, and each provider's condensed
    transcript."""

    transcript: Transcript
    language: str
    custom_prompt: str | None
    outputs: tuple[str, ...] = ()  # every output the request wants: the answer schema of each call holds them all
    calls: list[Call] = field(default_factory=list)
    condensed: dict[str, asyncio.Task[str]] = field(default_factory=dict)
    tripped: set[str] = field(default_factory=set)  # breaker keys this request already reported as failing
    started: float = field(default_factory=time.monotonic)  # the request's time budget counts from here

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
        request_budget_seconds: float,
    ) -> None:
        self._catalog = catalog
        self._breaker = breaker
        self._stats = stats
        self._max_output_tokens = max_output_tokens
        self._map_slots = map_concurrency
        self._budget = request_budget_seconds

    async def produce(self, chain: Sequence[Attempt], job: Job) -> list[Produced]:
        """Every output of the job, asked together: one call per provider (and one re-ask of the invalid ones);
        the outputs still missing move on to the next provider together."""
        failures: dict[str, list[Failure]] = {output: [] for output in job.outputs}
        produced: dict[str, Produced] = {}
        pending = job.outputs
        failed_provider: str | None = None  # counted as a fallback once the next provider is actually asked
        for attempt in chain:
            if not pending:
                break
            wait = self._breaker.retry_in(attempt.breaker_key)
            if wait > 0:
                for output in pending:
                    failures[output].append(Failure(output, attempt, "cooling_down", wait))
                continue
            if failed_provider is not None:
                for _ in pending:
                    self._stats.fallback(failed_provider)
                failed_provider = None
            try:
                body = await self._source_text(attempt, job)
                checked, problems = await self._checked(pending, job.outputs, attempt, job, job.transcript, body)
            except ProviderFailure as failure:
                for output in pending:
                    failures[output].append(Failure(output, attempt, failure.kind, failure.retry_after))
                failed_provider = attempt.provider
                continue
            for output, answer in checked.items():
                produced[output] = Produced(output, answer, attempt, tuple(failures[output]))
            for output in problems:
                failures[output].append(Failure(output, attempt, "invalid_output"))
            pending = tuple(problems)
            failed_provider = attempt.provider if pending else None
        if pending:
            raise AllProvidersFailed(pending[0], failures[pending[0]])
        return [produced[output] for output in job.outputs]

    async def _checked(
        self,
        kinds: Sequence[str],
        all_kinds: tuple[str, ...],
        attempt: Attempt,
        job: Job,
        transcript: Transcript,
        body: str,
        *,
        cache_source: bool = True,
    ) -> tuple[dict[str, Checked], dict[str, str]]:
        """Ask for `kinds` in one call, under the schema of `all_kinds` (the same on every call reading this
        source), and validate each separately; ask once more, in one call, for the invalid ones with the reasons.
        Returns the valid answers and, for those still invalid, why."""
        request = GenerationRequest(
            kinds=tuple(kinds),
            system=system_prompt(job.language),
            context=source_block(job.transcript, body),
            prompt=task_prompt(kinds, all_kinds, job.custom_prompt),
            schema=answer_envelope(all_kinds),
            transcript=transcript,
            language=job.language,
            custom_prompt=job.custom_prompt,
            max_output_tokens=self._max_output_tokens,
            cache_source=cache_source,
        )
        valid: dict[str, Checked] = {}
        problems: dict[str, str] = {}
        for last_try in (False, True):
            generation, call = await self._call(attempt, request, job)
            answers, problems, rejected = _parts(request.kinds, generation.text, job.answer_context)
            valid.update(answers)
            self._stats.record(replace(call, outcome="invalid_output") if problems else call)
            if not problems or last_try:
                break
            asked = tuple(problems)
            prompt = task_prompt(asked, all_kinds, job.custom_prompt)
            request = replace(request, kinds=asked, prompt=correction(prompt, rejected, problems))
        return valid, problems

    async def _call(self, attempt: Attempt, request: GenerationRequest, job: Job) -> tuple[Generation, CallRecord]:
        """One provider call, paid for (tokens count whether or not the answer turns out valid); its record for
        the stats says "ok" until the answer has been checked."""
        adapter = self._catalog.adapters[attempt.provider]
        profile = self._catalog.profiles[attempt.provider]
        started = time.perf_counter()
        try:
            remaining = job.started + self._budget - time.monotonic()
            if remaining <= 0:
                raise ProviderFailure(attempt.provider, OUT_OF_TIME)
            try:
                async with asyncio.timeout(remaining):  # the request's budget, over every attempt of the chain
                    generation = await adapter.generate(request, attempt.model, attempt.key)
            except TimeoutError:
                job.calls.append(Call(request.kinds, attempt, _unanswered(profile, attempt, request)))
                raise ProviderFailure(attempt.provider, OUT_OF_TIME) from None
        except asyncio.CancelledError:
            job.calls.append(Call(request.kinds, attempt, _unanswered(profile, attempt, request)))
            raise
        except ProviderFailure as failure:
            latency = (time.perf_counter() - started) * 1000
            if failure.kind == "timeout":
                job.calls.append(Call(request.kinds, attempt, _unanswered(profile, attempt, request)))
            self._stats.record(CallRecord(attempt.provider, attempt.model, latency, failure.kind))
            if failure.kind == OUT_OF_TIME:  # the request ran out, which says nothing about the provider
                raise
            if failure.retry_after is not None or (failure.trips_breaker and attempt.breaker_key not in job.tripped):
                # One request's concurrent calls failing together is one failure, not one per output. A timeout
                # opens the circuit at once: the next requests must not each wait a whole timeout to learn it.
                job.tripped.add(attempt.breaker_key)
                self._breaker.failure(attempt.breaker_key, failure.retry_after, open_now=failure.kind == "timeout")
            elif not failure.trips_breaker:  # it answered: the provider is up, only this request was refused
                self._breaker.success(attempt.breaker_key)
            raise
        self._breaker.success(attempt.breaker_key)
        spend = profile.spend(
            attempt.model, generation.tokens_in, generation.tokens_out, generation.cache_read, generation.cache_write
        )
        job.calls.append(Call(request.kinds, attempt, spend))
        latency = (time.perf_counter() - started) * 1000
        return generation, CallRecord(attempt.provider, attempt.model, latency, "ok", spend)

    async def _source_text(self, attempt: Attempt, job: Job) -> str:
        """The transcript as this provider's model reads it: whole if it fits, else notes of its parts (computed
        once per provider and request, shared by the outputs), condensed again until they fit."""
        budget = self._catalog.profiles[attempt.provider].context_tokens
        budget -= self._max_output_tokens + _PROMPT_OVERHEAD_TOKENS
        rendered = render_transcript(job.transcript)
        if estimate_tokens(rendered) <= budget:
            return rendered
        task = job.condensed.get(attempt.provider)
        if task is None:
            task = asyncio.ensure_future(self._condense(attempt, job, budget))
            job.condensed[attempt.provider] = task
        return await asyncio.shield(task)

    async def _condense(self, attempt: Attempt, job: Job, budget: int) -> str:
        part_budget = max(500, int(budget * 0.9))
        source = job.transcript
        for _ in range(_MAX_REDUCE_ROUNDS):
            notes = await self._notes(attempt, job, source, part_budget)
            text = "\n\n".join(notes)
            if estimate_tokens(text) <= budget:
                return text
            # Still too long: the notes become the transcript of another round (each part already opens with
            # its timestamp, so the times survive).
            source = Transcript.from_segments([Segment(0.0, 0.0, note) for note in notes], "text")
        raise ProviderFailure(attempt.provider, "bad_request", "the transcript is too long for this model's budget")

    async def _notes(self, attempt: Attempt, job: Job, source: Transcript, part_budget: int) -> list[str]:
        slots = asyncio.Semaphore(self._map_slots)

        async def notes_for(segments: tuple[Segment, ...]) -> str:
            part = Transcript(
                text=" ".join(s.text for s in segments),
                segments=segments,
                language=source.language,
                source=source.source,
            )
            async with slots:
                notes = (MAP_STEP,)
                answers, problems = await self._checked(
                    notes, notes, attempt, job, part, render_transcript(part), cache_source=False
                )
            if problems:
                raise ProviderFailure(attempt.provider, "invalid_output", problems[MAP_STEP])
            checked = answers[MAP_STEP]
            start = f"[{format_timestamp(part.segments[0].start)}] " if source.has_timestamps else ""
            topics = "; ".join(
                f"{t.title}" + (f" [{format_timestamp(t.timestamp)}]" if t.timestamp is not None else "")
                for t in checked.topics
            )
            return f"{start}{checked.value}\nTopics: {topics}"

        parts = split_segments(source.segments, part_budget, estimate_tokens)
        tasks = [asyncio.ensure_future(notes_for(part)) for part in parts]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:  # one part failed: the provider failed, stop paying for the rest
                task.cancel()
            raise


def _unanswered(profile: ProviderProfile, attempt: Attempt, request: GenerationRequest) -> Spend:
    """A call that got no answer may still be billed for the input it sent: counted at its estimate."""
    if attempt.payer is Payer.NONE:
        return Spend()
    return profile.spend(attempt.model, estimate_tokens(request.system + request.context + request.prompt), 0)


def _parts(kinds: Sequence[str], text: str, context: AnswerContext) -> tuple[dict[str, Checked], dict[str, str], str]:
    """Each asked output of one answer, validated on its own: the valid ones, why each other one is not, and the
    rejected part of the answer (to quote in the re-ask)."""
    try:
        answer = msgspec.json.decode(text)
    except msgspec.DecodeError:
        answer = None
    if not isinstance(answer, dict):
        problem = "The answer is not a JSON object with a property per output"
        return {}, dict.fromkeys(kinds, problem), text
    valid: dict[str, Checked] = {}
    problems: dict[str, str] = {}
    for kind in kinds:
        part = answer.get(kind)
        if part is None:
            problems[kind] = f"`{kind}` was not filled in"
            continue
        try:
            valid[kind] = check_answer(kind, msgspec.json.encode(part), context)
        except InvalidAnswer as problem:
            problems[kind] = str(problem)
    rejected = msgspec.json.encode({kind: answer.get(kind) for kind in problems}).decode()
    return valid, problems, rejected


def attribution(produced: Sequence[Produced], job: Job) -> Attribution:
    """Per output: each provider tried, in order, with the calls made for that output alone and the number of calls
    it shared with other outputs; the last one served it. Calls shared by several outputs are listed once per
    provider in `combined`, the map step's once per provider in `shared`: every call is counted exactly once."""
    own: dict[tuple[str, str], list[Spend]] = defaultdict(list)
    shared_calls: Counter[tuple[str, str]] = Counter()
    combined: dict[str, list[Call]] = defaultdict(list)
    for call in job.calls:
        name = call.attempt.provider
        if len(call.kinds) == 1:
            own[(call.kinds[0], name)].append(call.spend)
        else:
            combined[name].append(call)
            shared_calls.update((kind, name) for kind in call.kinds)
    outcomes: dict[tuple[str, str], str] = {}
    for p in produced:
        outcomes.update(((f.output, f.provider), f.reason) for f in p.failures)
        outcomes[(p.output, p.attempt.provider)] = "served"

    def record(kind: str, attempt: Attempt, outcome: str) -> AttemptRecord:
        spends = own.get((kind, attempt.provider), [])
        shared = shared_calls[(kind, attempt.provider)]
        return AttemptRecord(
            attempt.provider, attempt.model, attempt.payer, outcome, len(spends), Spend.total(spends), shared
        )

    def combined_record(calls: list[Call]) -> AttemptRecord:
        attempt = calls[0].attempt
        kinds = tuple(dict.fromkeys(kind for call in calls for kind in call.kinds))
        reasons = [outcomes.get((kind, attempt.provider), "cancelled") for kind in kinds]
        outcome = "served" if "served" in reasons else reasons[0]
        spend = Spend.total(call.spend for call in calls)
        return AttemptRecord(attempt.provider, attempt.model, attempt.payer, outcome, len(calls), spend, 0, kinds)

    outputs = tuple(
        OutputAttribution(
            output=p.output,
            provider=p.attempt.provider,
            model=p.attempt.model,
            payer=p.attempt.payer,
            attempts=(
                *(record(p.output, f.attempt, f.reason) for f in p.failures),
                record(p.output, p.attempt, "served"),
            ),
        )
        for p in produced
    )
    mapped = {call.attempt.provider: call.attempt for call in job.calls if call.kinds == (MAP_STEP,)}
    shared = tuple(record(MAP_STEP, attempt, _map_outcome(job.condensed.get(name))) for name, attempt in mapped.items())
    return Attribution(outputs, shared, tuple(combined_record(calls) for calls in combined.values()))


def _map_outcome(task: asyncio.Task[str] | None) -> str:
    if task is None or not task.done() or task.cancelled():
        return "cancelled"
    failure = task.exception()
    if failure is None:
        return "served"
    return failure.kind if isinstance(failure, ProviderFailure) else "failed"
