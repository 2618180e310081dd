"""The result cache and single-flight as ProcessTranscript uses them, over in-memory fakes: hit, miss, force_refresh,
prompt-version bump, expiry, purge, no answer crossing to different inputs, concurrent requests sharing one job,
and warming on the server's keys."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from application.access import Caller
from application.errors import NotFound, ProviderFailure
from application.processing.chain import Preference
from application.processing.process import ProcessCommand
from application.processing.result_cache import PurgeCachedResults, PurgeTarget, ResultCachePolicy
from application.processing.runner import AllProvidersFailed
from application.processing.warming import WarmResultCache
from domain.usage import Payer
from tests.data import TRANSCRIPT
from tests.fakes.llm_answers import default_answer
from tests.unit.application.test_processing import LEARNING, Setup
from tests.unit.container import UseCase, use_case_container
from tests.unit.fakes import World

TTL = 3600
VIDEO_URL = "https://youtu.be/dQw4w9WgXcQ"  # the FixedTranscriptSource's lecture


class CacheSetup(Setup):
    purge = UseCase(PurgeCachedResults)
    warm = UseCase(WarmResultCache)

    def restart(self, policy: ResultCachePolicy) -> None:
        """A new deployment (e.g. with a bumped prompt version) over the same shared cache and providers."""
        self.world.result_cache = policy
        self.container = use_case_container(self.world)


@pytest.fixture
def setup(world: World) -> CacheSetup:
    world.result_cache = ResultCachePolicy(TTL, warm_top_n=10, warm_budget_tokens=10_000, warm_before_seconds=600)
    return CacheSetup(world)


def summary_of(text: str) -> dict[str, dict[str, str]]:
    """A valid answer of a summary call that says `text` first (so tests can tell answers apart)."""
    return {"summary": {"summary": f"{text} " + default_answer("summary", TRANSCRIPT)["summary"]}}


@pytest.mark.parametrize(
    "command",
    [
        ProcessCommand(
            None, "pl", transcript=TRANSCRIPT, purpose="custom", custom_prompt="List the gases", min_words=1
        ),  # type: ignore[arg-type]
        ProcessCommand(("summary", "mind_map"), "en", url=VIDEO_URL, provider="a", model="a-small"),  # type: ignore[arg-type]
        ProcessCommand(None, "en", transcript=TRANSCRIPT, model="a-small", preference=Preference.HINT),
    ],
)
def test_the_warming_recipe_gives_back_the_same_command(command: ProcessCommand) -> None:
    assert ProcessCommand.from_recipe(command.recipe()) == command
    assert ProcessCommand.from_recipe(command.recipe(), force_refresh=True).force_refresh


async def test_an_identical_request_is_answered_from_the_cache_saved_and_counted_as_cached(setup: CacheSetup) -> None:
    caller = await setup.user()
    command = ProcessCommand(LEARNING, "en", transcript=TRANSCRIPT)
    first = await setup.process(caller, command)
    calls = len(setup.calls)

    second = await setup.process(caller, command)

    assert len(setup.calls) == calls  # no provider was asked
    assert (first.cached, second.cached) == (False, True)
    assert second.values["summary"] == first.values["summary"]
    assert second.values["mind_map"] == first.values["mind_map"]
    assert second.key_topics == first.key_topics
    assert second.served_by == first.served_by
    assert second.spend.tokens_total == 0
    assert second.spend.cost_usd == 0
    assert {o.payer for o in second.attribution.outputs} == {Payer.NONE}
    fresh, cached = setup.world.history.entries
    assert (fresh.cached, cached.cached) == (False, True)
    assert cached.id == second.history_id
    assert cached.mind_map == fresh.mind_map
    usage = setup.world.usage
    summary = await usage.summary(caller.principal.user.id)  # type: ignore[union-attr]
    assert summary.usage_count == 2
    assert summary.spend == first.spend  # the cached job spent nothing
    cached_events = [e for e in usage.events if e.history_id == cached.id]
    assert cached_events
    assert all(e.cached and e.spend.tokens_total == 0 for e in cached_events)


async def test_force_refresh_produces_a_new_answer_that_replaces_the_cached_one(setup: CacheSetup) -> None:
    caller = await setup.user()
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    first = await setup.process(caller, command)
    setup.providers["a"].script = [summary_of("Refreshed.")]

    forced = await setup.process(caller, replace(command, force_refresh=True))
    later = await setup.process(caller, command)

    assert not forced.cached
    assert forced.values["summary"].startswith("Refreshed.")
    assert not first.values["summary"].startswith("Refreshed.")
    assert later.cached
    assert later.values["summary"] == forced.values["summary"]


async def test_a_prompt_version_bump_stops_serving_the_old_answers(setup: CacheSetup) -> None:
    caller = await setup.user()
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    await setup.process(caller, command)
    assert (await setup.process(caller, command)).cached

    setup.restart(replace(setup.world.result_cache, prompt_version=setup.world.result_cache.prompt_version + 1))
    calls = len(setup.calls)
    bumped = await setup.process(caller, command)

    assert not bumped.cached
    assert len(setup.calls) == calls + 1


async def test_an_answer_expires_after_the_configured_time(setup: CacheSetup) -> None:
    caller = await setup.user()
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    await setup.process(caller, command)
    setup.world.clock.advance(seconds=TTL - 1)
    assert (await setup.process(caller, command)).cached
    setup.world.clock.advance(seconds=2)
    assert not (await setup.process(caller, command)).cached


async def test_a_zero_lifetime_caches_nothing(setup: CacheSetup) -> None:
    setup.restart(ResultCachePolicy(0))
    caller = await setup.user()
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    await setup.process(caller, command)
    assert not (await setup.process(caller, command)).cached
    assert len(setup.calls) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"transcript": TRANSCRIPT + " One more sentence about chlorophyll."},
        {"language": "pl"},
        {"outputs": ("summary", "topics")},
        {"provider": "b"},
        {"model": "a-small"},
    ],
)
async def test_another_users_answer_is_served_only_for_identical_inputs(
    setup: CacheSetup, change: dict[str, object]
) -> None:
    ada, bob = await setup.user("ada@example.com"), await setup.user("bob@example.com")
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    await setup.process(ada, command)

    different = await setup.process(bob, replace(command, **change))  # type: ignore[arg-type]
    same = await setup.process(bob, command)

    assert not different.cached
    assert same.cached


async def test_custom_prompts_are_part_of_the_key(setup: CacheSetup) -> None:
    ada, bob = await setup.user("ada@example.com"), await setup.user("bob@example.com")
    command = ProcessCommand(("custom",), "en", transcript=TRANSCRIPT, custom_prompt="List every plant named")
    await setup.process(ada, command)
    assert not (await setup.process(bob, replace(command, custom_prompt="List every gas named"))).cached
    assert (await setup.process(bob, command)).cached


async def test_a_users_own_key_makes_another_chain_and_so_another_entry(setup: CacheSetup) -> None:
    ada, bob = await setup.user("ada@example.com"), await setup.user("bob@example.com")
    await setup.give_key(ada, "c", "sk-ada-very-secret")
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)

    own = await setup.process(ada, command)  # served by `c` on Ada's key: another chain, another entry
    server = await setup.process(bob, command)

    assert own.served_by == {"summary": "c/c-large"}
    assert not server.cached
    assert server.served_by == {"summary": "a/a-large"}
    # Bob's key-less twin of Ada's chain is the same answer: identical inputs share it whoever paid.
    await setup.give_key(bob, "c", "sk-bob-other-secret")
    assert (await setup.process(bob, command)).cached


async def test_purging_a_video_drops_its_answers_only(setup: CacheSetup) -> None:
    caller = await setup.user()
    video = ProcessCommand(("summary",), "en", url=VIDEO_URL)
    text = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    await setup.process(caller, video)
    await setup.process(caller, text)

    assert await setup.purge(PurgeTarget(video_id="dQw4w9WgXcQ")) == 1

    assert not (await setup.process(caller, video)).cached
    assert (await setup.process(caller, text)).cached


async def test_purging_a_user_drops_the_answers_their_requests_produced(setup: CacheSetup) -> None:
    ada, bob = await setup.user("ada@example.com"), await setup.user("bob@example.com")
    adas = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    bobs = ProcessCommand(("summary",), "pl", transcript=TRANSCRIPT)
    await setup.process(ada, adas)
    await setup.process(bob, bobs)

    assert await setup.purge(PurgeTarget(email=" ADA@example.com")) == 1

    assert not (await setup.process(bob, adas)).cached
    assert (await setup.process(ada, bobs)).cached
    with pytest.raises(NotFound):
        await setup.purge(PurgeTarget(email="nobody@example.com"))


async def test_concurrent_identical_requests_share_one_job_and_all_get_the_answer(setup: CacheSetup) -> None:
    for provider in setup.providers.values():
        provider.delay = 0.05
    callers = [await setup.user(f"user{i}@example.com") for i in range(10)]
    command = ProcessCommand(LEARNING, "en", transcript=TRANSCRIPT)

    results = await asyncio.gather(*(setup.process(caller, command) for caller in callers))

    assert [c.kinds for c in setup.calls] == [LEARNING]  # one job: one call for every output
    assert [r.cached for r in results].count(False) == 1
    assert len({r.values["summary"] for r in results}) == 1
    assert len(setup.world.history.entries) == 10


async def test_when_the_shared_job_fails_every_request_waiting_on_it_fails_alike(setup: CacheSetup) -> None:
    for name in ("a", "b"):
        setup.providers[name].delay = 0.05
        setup.providers[name].script = [ProviderFailure(name, "unavailable")] * 3
    callers = [await setup.user(f"user{i}@example.com") for i in range(3)]
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)

    outcomes = await asyncio.gather(*(setup.process(c, command) for c in callers), return_exceptions=True)

    assert all(isinstance(o, AllProvidersFailed) for o in outcomes)
    assert len(setup.calls) == 2  # one job: a then b
    assert setup.world.history.entries == []


async def test_a_cancelled_leader_hands_the_job_to_a_waiting_request(setup: CacheSetup) -> None:
    setup.providers["a"].delay = 0.2
    ada, bob = await setup.user("ada@example.com"), await setup.user("bob@example.com")
    command = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    leader = asyncio.ensure_future(setup.process(ada, command))
    await asyncio.sleep(0.05)
    waiter = asyncio.ensure_future(setup.process(bob, command))
    await asyncio.sleep(0.05)

    leader.cancel()  # Ada's client went away
    result = await waiter

    assert not result.cached  # Bob's request produced it after all
    assert len(setup.calls) == 2


async def test_warming_recomputes_popular_answers_before_they_expire_on_the_servers_keys(setup: CacheSetup) -> None:
    ada = await setup.user("ada@example.com")
    popular = ProcessCommand(("summary",), "en", transcript=TRANSCRIPT)
    own_chain = ProcessCommand(("summary",), "pl", transcript=TRANSCRIPT)
    await setup.give_key(ada, "c", "sk-ada-very-secret")
    await setup.process(ada, own_chain)  # Ada's chain starts with her own `c` key: not the server's to warm
    anonymous = Caller(None, "10.0.0.9")
    await setup.process(anonymous, popular)
    assert (await setup.warm()).warmed == 0  # nothing expires soon

    setup.world.clock.advance(seconds=TTL - 300)
    calls = len(setup.calls)
    report = await setup.warm()

    assert (report.warmed, report.failed) == (1, 0)
    assert report.tokens == 150  # the fake providers report 100 in + 50 out per call
    [warming_call] = setup.calls[calls:]
    assert (warming_call.provider, warming_call.key) == ("a", None)  # on the server's key
    setup.world.clock.advance(seconds=600)  # the original entry's time is over; the warmed one lives on
    assert (await setup.process(anonymous, popular)).cached
    assert not (await setup.process(ada, own_chain)).cached
    assert [e.user_id for e in setup.world.history.entries] == [ada.user_id] * 2  # warming writes no history


async def test_warming_stops_at_its_token_budget(setup: CacheSetup) -> None:
    setup.restart(replace(setup.world.result_cache, warm_budget_tokens=100))
    for i, language in enumerate(("en", "pl", "de")):
        await setup.process(Caller(None, f"10.0.0.{i}"), ProcessCommand(("summary",), language, transcript=TRANSCRIPT))
    setup.world.clock.advance(seconds=TTL - 300)

    report = await setup.warm()

    assert report.warmed == 1  # 150 tokens spent: over the budget of 100, so no second one
