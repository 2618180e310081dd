"""ProcessTranscript with in-memory fakes of every port: chain order, fallback, re-ask, breaker, map-reduce,
and the all-or-nothing save."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace

import msgspec
import pytest

from application.access import Caller, ProcessingPolicy
from application.accounts.ports import StoredProviderKey
from application.accounts.provider_keys import key_context, masked_hint
from application.auth.authenticate import ALL_SCOPES, Principal
from application.errors import AuthenticationFailed, ProviderFailure, TooManyAttempts
from application.processing.catalog import ProviderCatalog, ProviderProfile
from application.processing.chain import Preference
from application.processing.chunking import split_segments
from application.processing.ports import ApiKey, Generation, GenerationRequest
from application.processing.process import ProcessCommand, ProcessTranscript
from application.processing.prompts import estimate_tokens
from application.processing.runner import AllProvidersFailed
from domain.errors import InvalidInput
from domain.outputs import Output, Purpose
from domain.transcripts import parse_transcript
from domain.users import Email, User
from tests.data import TRANSCRIPT
from tests.fakes.llm_answers import default_answer
from tests.unit.container import UseCase, use_case_container
from tests.unit.fakes import World, unit_tiers


@dataclass
class Call:
    provider: str
    kinds: tuple[str, ...]
    model: str
    key: ApiKey | None
    prompt: str  # the source block and what the call asks, as the model reads them


@dataclass
class ScriptedProvider:
    """Answers like a model would (a valid part for each asked kind) unless told to fail or misbehave."""

    name: str
    calls: list[Call]
    script: list[object] = field(default_factory=list)  # ProviderFailure to raise, or {kind: part} to answer with
    delay: float = 0.0  # seconds before answering
    cache_read: int = 0  # tokens it reports as read from its prompt cache, on every call

    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        prompt = f"{request.context}\n\n{request.prompt}"
        self.calls.append(Call(self.name, request.kinds, model, key, prompt))
        await asyncio.sleep(self.delay)
        step = self.script.pop(0) if self.script else None
        if isinstance(step, ProviderFailure):
            raise step
        scripted = step if isinstance(step, dict) else {}
        answer = {k: scripted.get(k) or default_answer(k, request.system + prompt) for k in request.kinds}
        return Generation(msgspec.json.encode(answer).decode(), 100, 50, cache_read=self.cache_read)

    async def check_key(self, secret: str) -> None:
        return None


class Setup:
    """ProcessTranscript from the production use-case provider, over a world whose providers follow a script:
    `a` and `b` run on the server's keys, `c` only on a user's own."""

    process = UseCase(ProcessTranscript)

    def __init__(
        self,
        world: World,
        *,
        context_tokens: int = 100_000,
        chain: tuple[str, ...] = ("a", "b"),
        budget: float = 60.0,
    ) -> None:
        self.world = world
        self.calls: list[Call] = []
        self.providers = {name: ScriptedProvider(name, self.calls) for name in ("a", "b", "c")}
        self.profiles = {
            name: ProviderProfile(
                name, (f"{name}-large", f"{name}-small"), name != "c", context_tokens, {f"{name}-large": (1.0, 2.0)}
            )
            for name in self.providers
        }
        world.catalog = ProviderCatalog(self.profiles, self.providers, chain)
        world.request_budget_seconds = budget
        self.container = use_case_container(world)

    async def user(self, email: str = "ada@example.com") -> Caller:
        user = User.register(Email(email), "hash", self.world.clock.now())
        await self.world.users.add(user)
        return Caller(Principal(user, ALL_SCOPES), "10.0.0.1")

    async def give_key(self, caller: Caller, provider: str, secret: str) -> None:
        """Stores the caller's own key for `provider`, sealed as saving it through the API would."""
        assert caller.principal is not None
        user_id = caller.principal.user.id
        sealed = self.world.box.seal(secret, key_context(user_id, provider))
        stored = StoredProviderKey(provider, sealed, masked_hint(secret), self.world.clock.now())
        await self.world.provider_keys.replace(user_id, [*await self.world.provider_keys.list(user_id), stored])
        await self.world.cache.invalidate(user_id)  # as saving a key does: no process may go on thinking it has none


@pytest.fixture
def setup(world: World) -> Setup:
    return Setup(world)


LEARNING = ("summary", "topics", "mind_map")


async def test_learning_outputs_come_back_valid_saved_and_counted(setup: Setup) -> None:
    caller = await setup.user()
    result = await setup.process(caller, ProcessCommand(LEARNING, "en", transcript=TRANSCRIPT))

    assert set(result.values) == set(LEARNING)
    assert result.values["topics"].startswith("Key topics:\n- ")
    assert result.values["mind_map"].root.children
    assert (result.provider, result.model) == ("a", "a-large")
    [call] = setup.calls  # one call for all three outputs
    assert call.kinds == LEARNING
    assert (result.spend.tokens_in, result.spend.tokens_out) == (100, 50)
    assert result.spend.cost_usd == pytest.approx((100 * 1.0 + 50 * 2.0) / 1e6)
    [combined] = result.attribution.combined  # counted once, and named by each output it served
    assert (combined.calls, combined.outputs, combined.spend.tokens_in) == (1, LEARNING, 100)
    assert [(o.attempts[0].calls, o.attempts[0].shared_calls) for o in result.attribution.outputs] == [(0, 1)] * 3
    [entry] = setup.world.history.entries
    assert entry.id == result.history_id
    assert entry.purpose == "learning"
    assert entry.mind_map is not None
    assert entry.mind_map["nodes"][0]["id"] == "root-1"  # history keeps the graph clients get
    assert entry.provider == "a"
    assert setup.world.uow.commits == 1
    summary = await setup.world.usage.summary(caller.principal.user.id)  # type: ignore[union-attr]
    assert summary.usage_count == 1
    assert summary.spend.tokens_in == 100


async def test_a_provider_is_asked_for_every_output_in_one_call_and_re_asked_only_for_the_invalid(setup: Setup) -> None:
    setup.providers["a"].script = [{"topics": {"topics": []}, "mind_map": {"nodes": []}}, {"mind_map": {"nodes": []}}]
    result = await setup.process(await setup.user(), ProcessCommand(LEARNING, "en", transcript=TRANSCRIPT))

    assert [(c.provider, c.kinds) for c in setup.calls] == [
        ("a", LEARNING),
        ("a", ("topics", "mind_map")),  # the two invalid ones, asked again together
        ("b", ("mind_map",)),  # still invalid: on to the next provider
    ]
    assert dict(result.served_by) == {"summary": "a/a-large", "topics": "a/a-large", "mind_map": "b/b-large"}
    assert "It was rejected:\n- `topics`: " in setup.calls[1].prompt
    stats = {s.provider: s for s in await setup.world.stats.snapshot()}
    assert (stats["a"].calls, stats["a"].errors, stats["a"].fallbacks) == (2, 2, 1)


async def test_cached_input_is_counted_and_priced_at_the_providers_discount(world: World) -> None:
    setup = Setup(world)
    setup.profiles["a"] = replace(setup.profiles["a"], cache_read_price=0.1)
    setup.providers["a"].cache_read = 80  # of its 100 input tokens
    result = await setup.process(await setup.user(), ProcessCommand(("summary",), transcript=TRANSCRIPT))

    assert (result.spend.tokens_in, result.spend.tokens_cached) == (100, 80)
    assert result.spend.cost_usd == pytest.approx(((20 + 80 * 0.1) * 1.0 + 50 * 2.0) / 1e6)


def test_cache_writes_are_priced_at_their_premium() -> None:
    profile = ProviderProfile("x", ("m",), True, 1000, {"m": (3.0, 15.0)}, cache_read_price=0.1, cache_write_price=1.25)
    spend = profile.spend("m", 1000, 100, cache_read=200, cache_write=700)
    assert spend.tokens_cached == 200
    assert spend.cost_usd == pytest.approx(((100 + 200 * 0.1 + 700 * 1.25) * 3.0 + 100 * 15.0) / 1e6)


@pytest.mark.parametrize("kind", ["timeout", "rate_limited", "unavailable", "connection", "rejected_key"])
async def test_each_failure_falls_back_to_the_next_provider(setup: Setup, kind: str) -> None:
    setup.providers["a"].script = [ProviderFailure("a", kind)]
    result = await setup.process(await setup.user(), ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert result.served_by == {"summary": "b/b-large"}
    assert [(f.provider, f.reason) for f in result.fallbacks] == [("a", kind)]
    [stats_a] = [s for s in await setup.world.stats.snapshot() if s.provider == "a"]
    assert stats_a.errors == 1
    assert stats_a.fallbacks == 1


async def test_an_invalid_answer_is_asked_again_with_the_reason(setup: Setup) -> None:
    setup.providers["a"].script = [{"summary": {"summary": "Far too short."}}]
    result = await setup.process(await setup.user(), ProcessCommand(("summary",), "en", transcript=TRANSCRIPT))
    assert result.served_by == {"summary": "a/a-large"}
    first, second = setup.calls
    assert "rejected" not in first.prompt
    assert "It was rejected:\n- `summary`: The summary has 3 words" in second.prompt
    assert second.prompt.startswith(first.prompt.split("</transcript>")[0])  # the same source block leads both


async def test_two_invalid_answers_move_on_to_the_next_provider(setup: Setup) -> None:
    setup.providers["a"].script = [{"summary": {"summary": "Too short."}}, {"summary": {"wrong": "shape"}}]
    result = await setup.process(await setup.user(), ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert result.served_by == {"summary": "b/b-large"}
    assert [(f.provider, f.reason) for f in result.fallbacks] == [("a", "invalid_output")]
    stats = {s.provider: s for s in await setup.world.stats.snapshot()}
    assert (stats["a"].calls, stats["a"].errors, stats["a"].fallbacks) == (2, 2, 1)
    assert (stats["b"].calls, stats["b"].errors, stats["b"].fallbacks) == (1, 0, 0)
    assert result.spend.tokens_in == 300  # the two refused answers were paid for too


async def test_when_every_provider_fails_nothing_is_stored_or_counted(setup: Setup) -> None:
    setup.providers["a"].script = [ProviderFailure("a", "unavailable")] * 3
    setup.providers["b"].script = [ProviderFailure("b", "timeout")] * 3
    caller = await setup.user()
    with pytest.raises(AllProvidersFailed) as failed:
        await setup.process(caller, ProcessCommand(LEARNING, transcript=TRANSCRIPT))
    assert "a (unavailable)" in str(failed.value)
    assert "b (timeout)" in str(failed.value)
    assert not failed.value.temporary
    assert setup.world.history.entries == []
    assert setup.world.uow.commits == 0
    assert (await setup.world.usage.summary(caller.principal.user.id)).usage_count == 0  # type: ignore[union-attr]


async def test_the_breaker_skips_a_failing_provider_then_lets_one_trial_through(setup: Setup) -> None:
    setup.providers["a"].script = [ProviderFailure("a", "unavailable"), ProviderFailure("a", "unavailable")]
    caller = await setup.user()
    command = ProcessCommand(("summary",), transcript=TRANSCRIPT)
    for _ in range(2):
        await setup.process(caller, command)
    calls_to_a = len([c for c in setup.calls if c.provider == "a"])

    result = await setup.process(caller, command)  # open: `a` is not called at all
    assert result.fallbacks[0].reason == "cooling_down"
    assert len([c for c in setup.calls if c.provider == "a"]) == calls_to_a

    setup.world.clock.advance(seconds=61)  # cooldown over: one trial call, which succeeds and closes the circuit
    result = await setup.process(caller, command)
    assert result.served_by == {"summary": "a/a-large"}
    assert not result.fallbacks


async def test_one_request_failing_on_every_output_counts_as_one_failure(setup: Setup) -> None:
    setup.providers["a"].script = [ProviderFailure("a", "unavailable")] * 3
    result = await setup.process(await setup.user(), ProcessCommand(LEARNING, transcript=TRANSCRIPT))
    assert setup.world.breaker.retry_in("a:server") == 0  # threshold 2: one bad moment of one request is not an outage
    [stats_a] = [s for s in await setup.world.stats.snapshot() if s.provider == "a"]
    assert (stats_a.errors, stats_a.fallbacks) == (1, 3)  # one failed call; three outputs moved on
    assert [(f.output, f.reason) for f in result.fallbacks] == [(o, "unavailable") for o in LEARNING]
    assert [c.kinds for c in setup.calls] == [LEARNING, LEARNING]  # and moved on together


async def test_a_failing_trial_opens_the_circuit_again(setup: Setup) -> None:
    setup.providers["a"].script = [ProviderFailure("a", "timeout")] * 3
    caller = await setup.user()
    command = ProcessCommand(("summary",), transcript=TRANSCRIPT)
    for _ in range(2):
        await setup.process(caller, command)
    setup.world.clock.advance(seconds=61)
    result = await setup.process(caller, command)  # the trial fails
    assert result.fallbacks[0].reason == "timeout"
    result = await setup.process(caller, command)
    assert result.fallbacks[0].reason == "cooling_down"


async def test_an_unsplittable_long_text_is_still_cut_to_the_budget() -> None:
    setup = Setup(World(), context_tokens=4500)
    text = "光合作用是植物利用光能制造有机物的过程" * 600  # no spaces at all
    await setup.process(await setup.user(), ProcessCommand(("summary",), "zh", transcript=text))
    notes = [c for c in setup.calls if c.kinds == ("chunk_notes",)]
    assert len(notes) >= 2
    assert all(estimate_tokens(c.prompt) < 4500 - 1000 for c in notes)


async def test_notes_too_long_for_the_budget_are_condensed_again() -> None:
    setup = Setup(World(), context_tokens=3000)  # 500 tokens per call: a few parts' notes exceed it
    caller = await setup.user()
    text = " ".join(f"Sentence {i} about leaves, light and sugar." for i in range(1500))
    result = await setup.process(caller, ProcessCommand(("summary",), "en", transcript=text))
    notes = [c for c in setup.calls if c.kinds == ("chunk_notes",)]
    first_round = split_segments(parse_transcript(text).segments, int(500 * 0.9), estimate_tokens)
    assert len(notes) > len(first_round)  # a second round ran over the first round's notes
    assert result.values["summary"]


async def test_retry_after_opens_the_circuit_for_that_long(setup: Setup) -> None:
    setup.providers["a"].script = [ProviderFailure("a", "rate_limited", retry_after=30)]
    caller = await setup.user()
    await setup.process(caller, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert 29 < setup.world.breaker.retry_in("a:server") <= 30


async def test_everyone_cooling_down_is_temporary_with_retry_after(setup: Setup) -> None:
    for name in ("a", "b"):
        setup.providers[name].script = [ProviderFailure(name, "rate_limited", retry_after=20)]
    caller = await setup.user()
    with pytest.raises(AllProvidersFailed):
        await setup.process(caller, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    with pytest.raises(AllProvidersFailed) as failed:
        await setup.process(caller, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert failed.value.temporary
    assert failed.value.retry_after == 20


async def test_the_users_own_key_is_used_first_and_only_for_them(setup: Setup) -> None:
    ada, bob = await setup.user("ada@example.com"), await setup.user("bob@example.com")
    await setup.give_key(ada, "c", "ada-secret")

    result = await setup.process(ada, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert result.served_by == {"summary": "c/c-large"}
    assert setup.calls[-1].key == ApiKey("ada-secret")

    result = await setup.process(bob, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert result.served_by == {"summary": "a/a-large"}  # `c` has no server key: bob cannot use it
    assert setup.calls[-1].key is None
    assert "ada-secret" not in repr(setup.calls[0].key)


async def test_a_user_key_failure_does_not_open_the_servers_circuit(setup: Setup) -> None:
    ada = await setup.user()
    await setup.give_key(ada, "a", "ada-secret")
    setup.providers["a"].script = [ProviderFailure("a", "unavailable")] * 2
    for _ in range(2):
        await setup.process(ada, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert setup.world.breaker.retry_in(f"a:user:{ada.user_id}") > 0
    assert setup.world.breaker.retry_in("a:server") == 0


async def test_request_preference_comes_first_and_an_unusable_one_is_refused(setup: Setup) -> None:
    caller = await setup.user()
    result = await setup.process(
        caller, ProcessCommand(("summary",), transcript=TRANSCRIPT, provider="b", model="b-small")
    )
    assert result.served_by == {"summary": "b/b-small"}
    with pytest.raises(InvalidInput) as refused:
        await setup.process(caller, ProcessCommand(("summary",), transcript=TRANSCRIPT, provider="c"))
    assert refused.value.problems[0].field == "provider"
    # a hint (the prototype's model names) that cannot be served falls through to the server's chain
    result = await setup.process(
        caller, ProcessCommand(("summary",), transcript=TRANSCRIPT, provider="c", preference=Preference.HINT)
    )
    assert result.served_by == {"summary": "a/a-large"}


async def test_bad_commands_list_every_problem(setup: Setup) -> None:
    with pytest.raises(InvalidInput) as refused:
        ProcessCommand(("custom", "poem"), "polish", transcript=TRANSCRIPT, url="https://youtu.be/x", purpose="ode")
    fields = {p.field for p in refused.value.problems}
    assert fields == {"url", "outputs", "language", "custom_prompt", "purpose"}
    with pytest.raises(InvalidInput) as refused:
        await setup.process(await setup.user(), ProcessCommand(("summary",), transcript=TRANSCRIPT, model="z"))
    assert [p.field for p in refused.value.problems] == ["model"]


def test_a_command_is_parsed_once_where_it_is_built() -> None:
    command = ProcessCommand(("summary", "mind_map", "summary"), " EN ", transcript=TRANSCRIPT, custom_prompt="a\x00b")
    assert command.outputs == (Output.SUMMARY, Output.MIND_MAP)
    assert command.language == "en"
    assert command.custom_prompt == "ab"
    assert command.purpose is Purpose.LEARNING  # what history records for outputs given without a purpose


async def test_without_outputs_the_purpose_chooses_them_as_the_prototype_did(setup: Setup) -> None:
    caller = await setup.user()
    social = await setup.process(caller, ProcessCommand(None, transcript=TRANSCRIPT, purpose="social_media"))
    assert set(social.values) == {"summary", "topics", "social_post"}
    blank_prompt = ProcessCommand(None, transcript=TRANSCRIPT, purpose="custom", custom_prompt="  ")
    assert set((await setup.process(caller, blank_prompt)).values) == {"summary", "topics"}
    assert set((await setup.process(caller, ProcessCommand(None, transcript=TRANSCRIPT))).values) == {
        "summary",
        "topics",
    }


async def test_long_transcripts_are_mapped_and_reduced_keeping_timestamps() -> None:
    setup = Setup(World(), context_tokens=2000 + 1000 + 1500)  # ~2000 tokens of transcript per call
    caller = await setup.user()
    result = await setup.process(
        caller, ProcessCommand(("summary", "topics"), "en", url="https://youtu.be/dQw4w9WgXcQ")
    )

    chunk_calls = [c for c in setup.calls if c.kinds == ("chunk_notes",)]
    assert len(chunk_calls) >= 2
    assert "[00:00]" in chunk_calls[0].prompt
    assert "[00:00]" not in chunk_calls[1].prompt
    [reduce_call] = [c for c in setup.calls if c.kinds != ("chunk_notes",)]
    assert reduce_call.kinds == ("summary", "topics")  # the reduce step is one call for both outputs
    assert "Topics:" in reduce_call.prompt  # it reads the notes, not the raw transcript
    lecture = setup.world.transcripts.transcript
    parts = split_segments(lecture.segments, int((4500 - 1000 - 1500) * 0.9), estimate_tokens)
    assert len(chunk_calls) == len(parts)  # each part asked once, shared by both outputs
    assert any(t.timestamp is not None for t in result.key_topics)
    assert all(0 <= (t.timestamp or 0) <= lecture.duration for t in result.key_topics)


async def test_anonymous_callers_are_limited_per_address_and_not_saved(setup: Setup) -> None:
    anonymous = Caller(None, "203.0.113.9")
    for _ in range(2):
        result = await setup.process(anonymous, ProcessCommand(("summary",), transcript=TRANSCRIPT))
        assert result.history_id is None
    with pytest.raises(TooManyAttempts):
        await setup.process(anonymous, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert setup.world.history.entries == []


async def test_anonymous_processing_can_be_switched_off(world: World) -> None:
    world.processing = ProcessingPolicy(False, unit_tiers())
    setup = Setup(world)
    with pytest.raises(AuthenticationFailed):
        await setup.process(Caller(None, "203.0.113.9"), ProcessCommand(("summary",), transcript=TRANSCRIPT))


async def test_the_users_preferred_provider_comes_before_the_servers_order(setup: Setup) -> None:
    from dataclasses import replace

    caller = await setup.user()
    assert caller.principal is not None
    prefers_b = Caller(Principal(replace(caller.principal.user, preferred_provider="b"), ALL_SCOPES), caller.address)
    result = await setup.process(prefers_b, ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert result.served_by == {"summary": "b/b-large"}
    result = await setup.process(prefers_b, ProcessCommand(("summary",), transcript=TRANSCRIPT, provider="a"))
    assert result.served_by == {"summary": "a/a-large"}  # the request's own preference still wins


async def test_no_database_transaction_is_held_while_the_providers_work(setup: Setup) -> None:
    rollbacks_seen: list[int] = []
    provider = setup.providers["a"]
    original = provider.generate

    async def watching(request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        rollbacks_seen.append(setup.world.uow.rollbacks)
        return await original(request, model, key)

    provider.generate = watching  # type: ignore[method-assign]
    await setup.process(await setup.user(), ProcessCommand(("summary",), transcript=TRANSCRIPT))
    assert rollbacks_seen == [1]
    assert setup.world.uow.commits == 1  # the save is a transaction of its own, after the calls


async def test_a_timeout_opens_the_circuit_at_once(setup: Setup) -> None:
    """Seen: with a hanging provider the first three requests each waited a whole timeout (threshold 3)."""
    setup.providers["a"].script = [ProviderFailure("a", "timeout")]
    caller = await setup.user()
    command = ProcessCommand(("summary",), transcript=TRANSCRIPT)
    await setup.process(caller, command)
    result = await setup.process(caller, command)
    assert [(f.provider, f.reason) for f in result.fallbacks] == [("a", "cooling_down")]
    assert len([c for c in setup.calls if c.provider == "a"]) == 1


async def test_the_requests_time_budget_ends_the_whole_chain(world: World) -> None:
    """However slow each provider is, the request answers when its budget is spent, and that says nothing
    against the providers (their circuits stay closed)."""
    setup = Setup(world, budget=0.3)
    setup.providers["a"].delay = setup.providers["b"].delay = 30
    started = time.monotonic()
    with pytest.raises(AllProvidersFailed) as failed:
        await setup.process(await setup.user(), ProcessCommand(LEARNING, transcript=TRANSCRIPT))
    assert time.monotonic() - started < 1
    assert [(f.provider, f.reason) for f in failed.value.failures] == [("a", "out_of_time"), ("b", "out_of_time")]
    assert setup.world.breaker.retry_in("a:server") == setup.world.breaker.retry_in("b:server") == 0


async def test_a_provider_that_cannot_translate_says_so_per_output(world: World) -> None:
    """`c` quotes like the offline provider: asked for English about a Polish transcript, it writes Polish, and
    the answer says which outputs are not translated."""
    setup = Setup(world, chain=("a", "c"))
    setup.profiles["c"] = replace(setup.profiles["c"], has_server_key=True, translates=False)
    too_short = {"summary": {"summary": "Too short."}}
    setup.providers["a"].script = [too_short, too_short]  # the summary falls back to c
    setup.world.languages.code = "pl"
    caller = await setup.user()

    result = await setup.process(caller, ProcessCommand(("summary", "topics"), "en", transcript=TRANSCRIPT))

    assert dict(result.served_by) == {"summary": "c/c-large", "topics": "a/a-large"}
    assert result.languages == {"summary": "pl", "topics": "en"}
    [notice] = result.notices
    assert (notice.code, notice.output) == ("not_translated", "summary")
    assert "Polish" in notice.message
    assert "English" in notice.message


async def test_no_notice_when_the_transcript_is_already_in_the_language_asked_for(setup: Setup) -> None:
    setup.profiles["c"] = replace(setup.profiles["c"], has_server_key=True, translates=False)
    setup.world.languages.code = "pl"
    caller = await setup.user()

    result = await setup.process(caller, ProcessCommand(("summary",), "pl", transcript=TRANSCRIPT, provider="c"))

    assert result.notices == ()
    assert result.language == "pl"
    assert setup.world.history.entries[0].language == "pl"


async def test_the_history_keeps_the_language_most_outputs_are_written_in(setup: Setup) -> None:
    setup.profiles["c"] = replace(setup.profiles["c"], has_server_key=True, translates=False)
    setup.world.languages.code = "pl"
    caller = await setup.user()

    result = await setup.process(caller, ProcessCommand(LEARNING, "en", transcript=TRANSCRIPT, provider="c"))

    assert set(result.languages.values()) == {"pl"}
    assert len(result.notices) == 3
    assert setup.world.history.entries[0].language == "pl"
