"""Tiers: request rates per user, and the daily quota of jobs on the server's keys (only those count)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from application.access import Caller, ProcessingPolicy
from application.accounts.usage import GetUsage
from application.auth.authenticate import ALL_SCOPES, Principal
from application.errors import ProviderFailure, QuotaExceeded, RateLimited
from application.limits import TierLimits
from application.processing.process import ProcessCommand
from application.processing.result_cache import ResultCachePolicy
from application.processing.runner import AllProvidersFailed
from domain.users import Role
from tests.data import TRANSCRIPT
from tests.unit.application.test_processing import Setup
from tests.unit.container import UseCase
from tests.unit.fakes import World, unit_tiers

SUMMARY = ProcessCommand(("summary",), transcript=TRANSCRIPT)


class QuotaSetup(Setup):
    usage = UseCase(GetUsage)

    async def used_today(self, caller: Caller) -> int:
        assert caller.principal is not None
        return int((await self.usage(caller.principal)).quota.used_today)


@pytest.fixture
def setup(world: World) -> QuotaSetup:
    world.processing = ProcessingPolicy(True, unit_tiers(free=TierLimits(100, 60, jobs_per_day=2)))
    return QuotaSetup(world)


async def test_jobs_on_the_servers_keys_are_counted_until_the_quota_is_used_up(setup: QuotaSetup) -> None:
    caller = await setup.user()
    for _ in range(2):
        await setup.process(caller, SUMMARY)
    with pytest.raises(QuotaExceeded) as refused:
        await setup.process(caller, SUMMARY)
    assert 0 < refused.value.retry_after <= 24 * 3600
    assert refused.value.limit == 2
    assert len(setup.world.history.entries) == 2
    report = await setup.usage(caller.principal)
    assert (report.quota.tier, report.quota.jobs_per_day, report.quota.used_today) == ("free", 2, 2)
    assert report.quota.remaining == 0
    assert (await setup.world.refusals.recent(1, 10)).by_tier == {"free": {"quota_exceeded": 1}}

    setup.world.clock.advance(days=1)  # a new UTC day
    await setup.process(caller, SUMMARY)
    assert await setup.used_today(caller) == 1


async def test_jobs_on_the_users_own_key_are_not_counted_and_go_on_past_the_quota(setup: QuotaSetup) -> None:
    caller = await setup.user()
    await setup.give_key(caller, "c", "sk-own-c")
    for _ in range(4):
        result = await setup.process(caller, SUMMARY)
        assert result.served_by == {"summary": "c/c-large"}
    assert await setup.used_today(caller) == 0


async def test_with_the_quota_used_up_a_user_with_keys_is_served_by_them_alone(setup: QuotaSetup) -> None:
    caller = await setup.user()
    for _ in range(2):
        await setup.process(caller, SUMMARY)
    await setup.give_key(caller, "c", "sk-own-c")
    setup.providers["c"].script = [ProviderFailure("c", "unavailable")]
    before = len(setup.calls)
    with pytest.raises(AllProvidersFailed):  # the server's providers are not tried: they would be over quota
        await setup.process(caller, SUMMARY)
    assert {c.provider for c in setup.calls[before:]} == {"c"}
    assert (await setup.process(caller, SUMMARY)).served_by == {"summary": "c/c-large"}
    assert await setup.used_today(caller) == 2


async def test_over_the_quota_an_answer_already_stored_is_still_served(setup: QuotaSetup) -> None:
    setup.world.result_cache = ResultCachePolicy(3600)
    caller = await setup.user()
    first = await setup.process(caller, SUMMARY)
    await setup.process(caller, replace(SUMMARY, transcript=f"{TRANSCRIPT} Another lecture."))  # the quota is used up
    calls = len(setup.calls)

    again = await setup.process(caller, SUMMARY)

    assert again.cached
    assert again.values == first.values
    assert len(setup.calls) == calls  # no provider was asked
    assert (await setup.world.refusals.recent(24, 10)).by_tier == {}  # served: not a refusal
    with pytest.raises(QuotaExceeded):  # a refresh would be a job
        await setup.process(caller, replace(SUMMARY, force_refresh=True))
    with pytest.raises(QuotaExceeded):
        await setup.process(caller, replace(SUMMARY, transcript=f"{TRANSCRIPT} A third lecture."))
    assert await setup.used_today(caller) == 2
    assert (await setup.world.refusals.recent(24, 10)).by_tier == {"free": {"quota_exceeded": 2}}


async def test_a_failed_job_costs_no_quota(setup: QuotaSetup) -> None:
    caller = await setup.user()
    for name in ("a", "b"):
        setup.providers[name].script = [ProviderFailure(name, "unavailable")] * 2
    with pytest.raises(AllProvidersFailed):
        await setup.process(caller, SUMMARY)
    assert await setup.used_today(caller) == 0


async def test_concurrent_jobs_cannot_overrun_the_quota(setup: QuotaSetup) -> None:
    caller = await setup.user()
    setup.providers["a"].delay = 0.05  # every job is running when the next one asks
    jobs = [ProcessCommand(("summary",), transcript=f"{TRANSCRIPT} Part {n}.") for n in range(6)]  # all different
    results = await asyncio.gather(*(setup.process(caller, job) for job in jobs), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 2
    assert all(isinstance(r, QuotaExceeded) for r in results if isinstance(r, Exception))
    assert await setup.used_today(caller) == 2


async def test_signed_in_callers_are_limited_by_their_tiers_request_rate(world: World) -> None:
    world.processing = ProcessingPolicy(True, unit_tiers(free=TierLimits(2, 60)))
    setup = QuotaSetup(world)
    caller = await setup.user()
    for _ in range(2):
        await setup.process(caller, SUMMARY)
    with pytest.raises(RateLimited) as refused:
        await setup.process(caller, SUMMARY)
    assert refused.value.retry_after == 30  # 2 a minute: one comes back every 30 s
    assert (await world.refusals.recent(1, 10)).top_users == [(caller.user_id, 1)]

    assert caller.principal is not None
    admin = Caller(Principal(replace(caller.principal.user, role=Role.ADMIN), ALL_SCOPES), caller.address)
    for _ in range(5):  # administrators have the admin tier, unlimited here, whatever their stored tier
        await setup.process(admin, SUMMARY)
