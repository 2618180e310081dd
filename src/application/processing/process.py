"""The core job: a transcript (or a YouTube URL) in; validated outputs out, saved to history and counted."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from application.access import ADMISSION_ERRORS, Admission, Caller
from application.accounts.ports import UserProviderKeys
from application.auth.authenticate import Principal
from application.errors import QuotaExceeded
from application.ports import Clock, UnitOfWork, UsageRepository
from application.presenters.mind_map import react_flow_graph
from application.processing.catalog import ProviderCatalog
from application.processing.chain import Preference, ProviderChainPolicy
from application.processing.ports import (
    TRANSCRIPT_SOURCE_ERRORS,
    HistoryRepository,
    LanguageIdentifier,
    TranscriptSource,
)
from application.processing.prompts import language_name
from application.processing.quota import JobQuota, QuotaPlan
from application.processing.result_cache import AnswerRequest, CachedAnswer, CachedResults
from application.processing.runner import (
    AllProvidersFailed,
    Attempt,
    Job,
    OutputRunner,
    Produced,
    attribution,
)
from domain.errors import InvalidField, InvalidInput, Problem, check_all
from domain.history import HistoryEntry
from domain.outputs import Output, Purpose, TopicView
from domain.transcripts import (
    MAX_TRANSCRIPT_CHARS,
    MIN_TRANSCRIPT_WORDS,
    EmptyTranscript,
    InvalidVideoUrl,
    Transcript,
    TranscriptUnusable,
    VideoRef,
    parse_transcript,
    without_control_characters,
)
from domain.usage import AttemptRecord, Attribution, OutputAttribution, Payer, Spend, UsageEvent
from domain.users import language_code

MAX_CUSTOM_PROMPT_CHARS = 10_000  # the prototype's limit; /api/v1 bodies keep their own, lower one


@dataclass(frozen=True, slots=True)
class ProcessCommand:
    """A processing request, parsed where it is built: outputs and purpose become enums, the language a
    normalised ISO 639-1 code, the custom prompt loses its control characters. Every problem is refused at once;
    whether the provider and model are offered is the ProviderChainPolicy's to say."""

    outputs: tuple[Output, ...] | None  # None: chosen by `purpose` as the prototype did, else summary and topics
    language: str = "pl"
    transcript: str | None = None
    url: str | None = None
    custom_prompt: str | None = None
    # Given outputs without a purpose, the purpose they serve (what history records), if any.
    purpose: Purpose | None = None
    provider: str | None = None
    model: str | None = None
    preference: Preference = Preference.REQUIRED
    # Shorter sources get shorter outputs; the prototype's route takes any transcript with a word in it.
    min_words: int = MIN_TRANSCRIPT_WORDS
    force_refresh: bool = False  # produce a new answer even when one is cached (and cache the new one)

    def __post_init__(self) -> None:
        def source() -> None:
            if (self.url is None) == (self.transcript is None):
                raise InvalidField("give either `url` or `transcript`, not both", "url")
            if self.transcript is not None and len(self.transcript) > MAX_TRANSCRIPT_CHARS:
                raise InvalidField(f"must be at most {MAX_TRANSCRIPT_CHARS} characters", "transcript")

        def purpose() -> Purpose | None:
            if self.purpose is not None and self.purpose not in Purpose.__members__.values():
                raise InvalidField(f"unknown purpose '{self.purpose}' (known: {', '.join(Purpose)})")
            return None if self.purpose is None else Purpose(self.purpose)

        def outputs() -> tuple[Output, ...] | None:
            if self.outputs is not None and not self.outputs:
                raise InvalidField("ask for at least one output")
            unknown = [o for o in self.outputs or () if o not in Output.__members__.values()]
            if unknown:
                raise InvalidField(f"unknown output '{unknown[0]}' (known: {', '.join(Output)})")
            return None if self.outputs is None else tuple(dict.fromkeys(Output(o) for o in self.outputs))

        def custom_prompt() -> str | None:
            text = without_control_characters(self.custom_prompt) if self.custom_prompt else self.custom_prompt
            if Output.CUSTOM in (self.outputs or ()) and not (text and text.strip()):
                raise InvalidField("is required for the custom output")
            if text is not None and len(text) > MAX_CUSTOM_PROMPT_CHARS:
                raise InvalidField(f"must be at most {MAX_CUSTOM_PROMPT_CHARS} characters")
            return text

        parsed = check_all(
            {
                "url": source,
                "purpose": purpose,
                "outputs": outputs,
                "language": lambda: language_code(self.language),
                "custom_prompt": custom_prompt,
            }
        )
        if parsed["purpose"] is None and parsed["outputs"] is not None:
            parsed["purpose"] = Purpose.served_by(parsed["outputs"])
        for name in ("purpose", "outputs", "language", "custom_prompt"):
            object.__setattr__(self, name, parsed[name])  # frozen: set once, here, before anyone reads it

    def recipe(self) -> bytes:
        """The command as JSON, for the cache-warming task to run it again."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "force_refresh"}
        return json.dumps({**fields, "preference": self.preference.value}, ensure_ascii=False).encode()

    @classmethod
    def from_recipe(cls, raw: bytes, force_refresh: bool = False) -> ProcessCommand:
        fields = json.loads(raw)
        outputs = None if fields["outputs"] is None else tuple(fields["outputs"])
        preference = Preference(fields["preference"])
        return cls(**{**fields, "outputs": outputs, "preference": preference}, force_refresh=force_refresh)

    def wanted_outputs(self) -> tuple[Output, ...]:
        if self.outputs is not None:
            return self.outputs
        if self.purpose is not None:
            return self.purpose.outputs(has_custom_prompt=bool(self.custom_prompt and self.custom_prompt.strip()))
        return (Output.SUMMARY, Output.TOPICS)


@dataclass(frozen=True, slots=True)
class Fallback:
    """An output left a provider for the next one in the chain, and why."""

    output: str
    provider: str
    model: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know about an output that is not an error, e.g. `not_translated`."""

    code: str
    output: str
    message: str


@dataclass(frozen=True, slots=True)
class ProcessResult:
    values: Mapping[str, Any]  # output → its checked value: text, or the `MindMap` tree
    key_topics: tuple[TopicView, ...]
    transcript: Transcript
    provider: str  # the one that served most outputs (ties: the first output's)
    model: str
    attribution: Attribution  # per output: who served, who paid, every attempt and what it cost
    duration_ms: int
    history_id: uuid.UUID | None
    languages: Mapping[str, str]  # output → the language it is actually written in
    notices: tuple[Notice, ...] = ()
    cached: bool = False  # another request's answer (stored, or shared while it ran): nothing spent for this one

    @property
    def language(self) -> str:
        """The language most outputs are written in (ties: the first output's)."""
        counts = Counter(self.languages.values())
        return max(counts, key=counts.__getitem__)

    @property
    def spend(self) -> Spend:
        """Every upstream call the job made that a provider may bill, re-asks and failed attempts included."""
        return self.attribution.spend.rounded

    @property
    def served_by(self) -> Mapping[str, str]:
        return {o.output: f"{o.provider}/{o.model}" for o in self.attribution.outputs}

    @property
    def fallbacks(self) -> tuple[Fallback, ...]:
        return tuple(
            Fallback(o.output, a.provider, a.model, a.outcome)
            for o in self.attribution.outputs
            for a in o.attempts[:-1]
        )

    def cached_answer(self) -> CachedAnswer:
        return CachedAnswer(
            values=self.values,
            key_topics=self.key_topics,
            provider=self.provider,
            model=self.model,
            served_by={o.output: (o.provider, o.model) for o in self.attribution.outputs},
            languages=self.languages,
            notices=tuple((n.code, n.output, n.message) for n in self.notices),
        )

    @classmethod
    def of_cached(cls, answer: CachedAnswer, transcript: Transcript, duration_ms: int) -> ProcessResult:
        """A cached answer as this request's result: each output says who wrote it; nobody paid, nothing was spent."""
        outputs = tuple(
            OutputAttribution(o, p, m, Payer.NONE, (AttemptRecord(p, m, Payer.NONE, "served", 0, Spend()),))
            for o, (p, m) in answer.served_by.items()
        )
        return cls(
            values=answer.values,
            key_topics=answer.key_topics,
            transcript=transcript,
            provider=answer.provider,
            model=answer.model,
            attribution=Attribution(outputs),
            duration_ms=duration_ms,
            history_id=None,
            languages=answer.languages,
            notices=tuple(Notice(*notice) for notice in answer.notices),
            cached=True,
        )


class ProcessTranscript:
    raises = (
        InvalidInput,
        *ADMISSION_ERRORS,
        QuotaExceeded,
        InvalidVideoUrl,
        *TRANSCRIPT_SOURCE_ERRORS,
        EmptyTranscript,
        TranscriptUnusable,
        AllProvidersFailed,
    )

    def __init__(
        self,
        source: TranscriptSource,
        runner: OutputRunner,
        catalog: ProviderCatalog,
        providers: ProviderChainPolicy,
        keys: UserProviderKeys,
        history: HistoryRepository,
        usage: UsageRepository,
        uow: UnitOfWork,
        clock: Clock,
        admission: Admission,
        quota: JobQuota,
        languages: LanguageIdentifier,
        results: CachedResults,
    ) -> None:
        self._results = results
        self._source = source
        self._languages = languages
        self._runner = runner
        self._catalog = catalog
        self._providers = providers
        self._keys = keys
        self._history = history
        self._usage = usage
        self._uow = uow
        self._clock = clock
        self._admission = admission
        self._quota = quota

    async def __call__(self, caller: Caller, command: ProcessCommand) -> ProcessResult:
        started = time.perf_counter()
        await self._admission(caller)
        self._providers.check(command)
        transcript = await self._read(command)
        user_keys = await self._keys.for_user(caller.user_id) if caller.user_id else {}
        await self._uow.rollback()
        chain = self._providers.chain(command, caller, user_keys)
        try:
            plan = await self._quota.plan(caller, chain)
        except QuotaExceeded:
            # Only a job that must run is refused: an answer already stored costs the server nothing.
            found = await self._results.stored(self._cache_request(caller, command, transcript, chain))
            if found is None:
                await self._quota.refused(caller)
                raise
            result = ProcessResult.of_cached(CachedAnswer.decode(found), transcript, _elapsed_ms(started))
        else:
            result = await self._answer(caller, command, transcript, plan, started)
        if caller.principal is not None:
            result = await self._save(caller.principal, command, result)
        return result

    async def _answer(
        self, caller: Caller, command: ProcessCommand, transcript: Transcript, plan: QuotaPlan, started: float
    ) -> ProcessResult:
        """From the result cache, or from the job of an identical request running now, else from a job of our own
        (which the identical requests arriving meanwhile then share)."""
        request = self._cache_request(caller, command, transcript, plan.chain)
        own: list[ProcessResult] = []

        async def produce() -> CachedAnswer:
            # Only a job that runs takes from the quota: an answer from the cache or another request's job does not.
            own.append(await self._quota.run(plan, lambda: self._produce(command, transcript, plan.chain, started)))
            return own[0].cached_answer()

        found = await self._results.answer(request, produce)
        if own:
            return own[0]
        return ProcessResult.of_cached(CachedAnswer.decode(found), transcript, _elapsed_ms(started))

    def _cache_request(
        self, caller: Caller, command: ProcessCommand, transcript: Transcript, chain: list[Attempt]
    ) -> AnswerRequest:
        pairs = [(a.provider, a.model) for a in chain]
        return AnswerRequest(
            key=self._results.key(transcript, command.wanted_outputs(), command.language, command.custom_prompt, pairs),
            video_id=transcript.video_id,
            user_id=caller.user_id,
            # The warming task recomputes on the server's keys only: an answer that another chain gave is not its.
            recipe=command.recipe() if pairs == self._server_chain(command) else None,
            force_refresh=command.force_refresh,
        )

    def _server_chain(self, command: ProcessCommand) -> list[tuple[str, str]] | None:
        """The providers and models that would answer on the server's keys alone, if any would."""
        try:
            chain = self._providers.chain(command, Caller(None, "server", operator=True), {})
        except InvalidInput:
            return None
        return [(a.provider, a.model) for a in chain]

    async def _produce(
        self, command: ProcessCommand, transcript: Transcript, chain: list[Attempt], started: float
    ) -> ProcessResult:
        job = Job(transcript, command.language, command.custom_prompt, tuple(command.wanted_outputs()))
        try:
            produced = await self._runner.produce(chain, job)
        finally:
            for task in job.condensed.values():
                task.cancel()
        return self._result(produced, job, transcript, _elapsed_ms(started))

    async def _read(self, command: ProcessCommand) -> Transcript:
        if command.url is not None:
            transcript = await self._source.fetch(VideoRef.parse(command.url), command.language)
        else:
            assert command.transcript is not None
            transcript = parse_transcript(command.transcript)
        if not transcript.has_words(command.min_words):
            message = f"is too short to process: at least {command.min_words} words are needed"
            if command.min_words == 1:
                message = "has no words to process"
            raise InvalidInput([Problem("url" if command.url else "transcript", message)])
        reason = transcript.unusable_reason
        if reason is not None:
            raise TranscriptUnusable(reason)
        if transcript.language is None:  # pasted text says nothing of its language; captions do
            transcript = replace(transcript, language=self._languages.identify(transcript.text))
        return transcript

    def _result(
        self, produced: Sequence[Produced], job: Job, transcript: Transcript, duration_ms: int
    ) -> ProcessResult:
        served = Counter((p.attempt.provider, p.attempt.model) for p in produced)
        provider, model = max(served, key=lambda pair: served[pair])  # ties: the first output's provider
        topics = next((p.checked.topics for p in produced if p.output == Output.TOPICS), ())
        languages, notices = self._languages_written(produced, job.language, transcript.language)
        return ProcessResult(
            values={p.output: p.checked.value for p in produced},
            key_topics=topics,
            transcript=transcript,
            provider=provider,
            model=model,
            attribution=attribution(produced, job),
            duration_ms=duration_ms,
            history_id=None,
            languages=languages,
            notices=notices,
        )

    def _languages_written(
        self, produced: Sequence[Produced], wanted: str, spoken: str | None
    ) -> tuple[dict[str, str], tuple[Notice, ...]]:
        """A provider that cannot translate writes in the transcript's language; the user is told when that is
        not the language asked for."""
        spoken = spoken.split("-")[0].lower() if spoken else None  # captions say e.g. "en-GB"
        languages: dict[str, str] = {}
        notices: list[Notice] = []
        for p in produced:
            translates = self._catalog.profiles[p.attempt.provider].translates
            written = wanted if translates or spoken is None else spoken
            languages[p.output] = written
            if written != wanted:
                message = (
                    f"The {p.output.replace('_', ' ')} output is in {language_name(written)}, the transcript's "
                    f"language, not {language_name(wanted)}: the {p.attempt.provider} provider quotes the transcript "
                    "and cannot translate it."
                )
                notices.append(Notice("not_translated", p.output, message))
        return languages, tuple(notices)

    async def _save(self, principal: Principal, command: ProcessCommand, result: ProcessResult) -> ProcessResult:
        """History row, usage event and usage_count in one transaction: all of them or none."""
        now = self._clock.now()
        values, transcript = result.values, result.transcript
        entry = HistoryEntry(
            id=uuid.uuid4(),
            user_id=principal.user.id,
            transcript_hash=transcript.hash,
            purpose=command.purpose,
            outputs=" ".join(values),
            summary=values.get(Output.SUMMARY),
            topics=values.get(Output.TOPICS),
            key_topics=[{"title": t.title, "timestamp": t.timestamp} for t in result.key_topics] or None,
            mind_map=react_flow_graph(values[Output.MIND_MAP]) if Output.MIND_MAP in values else None,
            social_post=values.get(Output.SOCIAL_POST),
            custom_prompt=command.custom_prompt if Output.CUSTOM in values else None,
            custom_output=values.get(Output.CUSTOM),
            video_id=transcript.video_id,
            video_url=transcript.video_url,
            title=transcript.title,
            language=result.language,
            provider=result.provider,
            model=result.model,
            spend=result.spend,
            attribution=result.attribution,
            duration_ms=result.duration_ms,
            cached=result.cached,
            created_at=now,
        )
        await self._history.add(entry)
        await self._usage.add_job(principal.user.id, _usage_events(entry, result.attribution.records()))
        await self._uow.commit()
        return replace(result, history_id=entry.id)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _usage_events(entry: HistoryEntry, records: Sequence[AttemptRecord]) -> list[UsageEvent]:
    """One event per provider, model and payer that served an output or spent anything: quotas and bills are
    counted on who paid."""
    groups: dict[tuple[str, str, Payer], list[AttemptRecord]] = {}
    for record in records:
        groups.setdefault((record.provider, record.model, record.payer), []).append(record)
    return [
        UsageEvent(
            id=uuid.uuid4(),
            user_id=entry.user_id,
            kind="process",
            provider=provider,
            model=model,
            payer=payer,
            spend=Spend.total(r.spend for r in group).rounded,
            cached=entry.cached,
            created_at=entry.created_at,
            history_id=entry.id,
        )
        for (provider, model, payer), group in groups.items()
        if any(r.outcome == "served" for r in group) or any(r.calls for r in group)
    ]
