"""Jobs a day on the server's keys: planned before the job is looked up anywhere (a result cache, a job already
running), taken by the job that actually runs before it starts (so concurrent jobs cannot overrun the quota), and
given back when that job fails or ends up paid by nobody but the user."""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Protocol, TypeVar

from application.access import Caller, ProcessingPolicy
from application.auth.authenticate import Principal
from application.errors import QuotaExceeded
from application.limits import RefusalLog
from application.ports import AttemptCounter, Clock
from application.processing.runner import Attempt
from domain.usage import Attribution, Payer

# A day's counter outlives its day by this much, so that a job running across midnight can still be given back.
_GRACE_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class QuotaStanding:
    tier: str
    jobs_per_day: int | None  # None: no quota
    used_today: int
    resets_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.jobs_per_day is None else max(0, self.jobs_per_day - self.used_today)


class Attributed(Protocol):
    @property
    def attribution(self) -> Attribution: ...


R = TypeVar("R", bound=Attributed)


@dataclass(frozen=True, slots=True)
class QuotaPlan:
    """What a job may use, decided before anything is looked up: the chain (with the day's quota used up, a user
    who brought keys goes on with those alone), and the day's counter the job must take one from (None: none)."""

    chain: list[Attempt]
    key: str | None = None
    tier: str = ""
    user_id: uuid.UUID | None = None
    jobs_per_day: int = 0
    resets_in: int = 0


class JobQuota:
    def __init__(self, policy: ProcessingPolicy, counter: AttemptCounter, clock: Clock, refusals: RefusalLog) -> None:
        self._policy = policy
        self._counter = counter
        self._clock = clock
        self._refusals = refusals

    async def plan(self, caller: Caller, chain: Sequence[Attempt]) -> QuotaPlan:
        """The chain the job may use; QuotaExceeded when the day's quota is used up and the caller has no keys of
        their own (recorded as a refusal only by `refused`, once nothing else could serve the request)."""
        tier, limits = self._policy.limits_of(caller.principal)
        server_paid = any(a.payer is Payer.SERVER_KEY for a in chain)
        if caller.user_id is None or caller.operator or limits.jobs_per_day is None or not server_paid:
            return QuotaPlan(list(chain))
        key, tomorrow = self._today(caller.user_id)
        resets_in = self._seconds_until(tomorrow)
        if await self._counter.count(key) < limits.jobs_per_day:
            return QuotaPlan(list(chain), key, tier, caller.user_id, limits.jobs_per_day, resets_in)
        own = [a for a in chain if a.payer is not Payer.SERVER_KEY]
        if any(a.payer is Payer.USER_KEY for a in own):
            return QuotaPlan(own)
        raise QuotaExceeded(limits.jobs_per_day, resets_in)  # not yet a refusal: a stored answer may still serve

    async def refused(self, caller: Caller) -> None:
        """A request the plan found over quota was refused after all (no stored answer could serve it)."""
        tier, _ = self._policy.limits_of(caller.principal)
        await self._refusals.record(tier, "quota_exceeded", caller.user_id)

    async def run(self, plan: QuotaPlan, job: Callable[[], Awaitable[R]]) -> R:
        """Runs `job` on the day's quota: one job is taken before it starts (so concurrent jobs cannot overrun the
        quota) and given back when it fails or the server's keys paid for nothing in it (an output served, or any
        call made, on a server key is what counts)."""
        if plan.key is None:
            return await job()
        used, _ = await self._counter.increment(plan.key, plan.resets_in + _GRACE_SECONDS)
        if used > plan.jobs_per_day:  # another job took the last one since the plan was made
            await self._counter.release(plan.key)  # a refused job takes nothing: refunds stay exact
            await self._refusals.record(plan.tier, "quota_exceeded", plan.user_id)
            raise QuotaExceeded(plan.jobs_per_day, plan.resets_in)
        try:
            result = await job()
        except BaseException:  # failed or cancelled: it costs no quota
            await self._counter.release(plan.key)
            raise
        if not result.attribution.spent_by(Payer.SERVER_KEY):
            await self._counter.release(plan.key)
        return result

    async def standing(self, principal: Principal) -> QuotaStanding:
        tier, limits = self._policy.limits_of(principal)
        key, tomorrow = self._today(principal.user.id)
        return QuotaStanding(tier, limits.jobs_per_day, await self._counter.count(key), tomorrow)

    def _today(self, user_id: uuid.UUID) -> tuple[str, datetime]:
        """Today's counter (days are UTC) and when tomorrow's starts."""
        today = self._clock.now().date()
        return f"jobs:{user_id}:{today.isoformat()}", datetime.combine(today + timedelta(days=1), time(), UTC)

    def _seconds_until(self, moment: datetime) -> int:
        return max(1, math.ceil((moment - self._clock.now()).total_seconds()))
