"""Jobs a day on the server's keys: reserved before a job (so concurrent jobs cannot overrun the quota), given
back when the job fails or ends up paid by nobody but the user."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

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


class QuotaHold:
    """One job's claim on today's quota, and the chain the job may use: with the quota used up, a user who
    brought keys goes on with those alone."""

    def __init__(self, chain: Sequence[Attempt], counter: AttemptCounter | None = None, key: str = "") -> None:
        self.chain = list(chain)
        self._counter = counter
        self._key = key

    async def refund(self) -> None:
        """The job failed: it costs no quota."""
        if self._counter is not None:
            counter, self._counter = self._counter, None
            await counter.release(self._key)

    async def settle(self, attribution: Attribution) -> None:
        """Only a job the server's keys paid for (served an output, or made calls) counts."""
        if not attribution.spent_by(Payer.SERVER_KEY):
            await self.refund()
        self._counter = None


class JobQuota:
    def __init__(self, policy: ProcessingPolicy, counter: AttemptCounter, clock: Clock, refusals: RefusalLog) -> None:
        self._policy = policy
        self._counter = counter
        self._clock = clock
        self._refusals = refusals

    async def reserve(self, caller: Caller, chain: Sequence[Attempt]) -> QuotaHold:
        tier, limits = self._policy.limits_of(caller.principal)
        server_paid = any(a.payer is Payer.SERVER_KEY for a in chain)
        if caller.user_id is None or caller.operator or limits.jobs_per_day is None or not server_paid:
            return QuotaHold(chain)
        key, tomorrow = self._today(caller.user_id)
        resets_in = self._seconds_until(tomorrow)
        used, _ = await self._counter.increment(key, resets_in + _GRACE_SECONDS)
        if used <= limits.jobs_per_day:
            return QuotaHold(chain, self._counter, key)
        await self._counter.release(key)  # a refused job takes nothing: refunds of running ones stay exact
        own = [a for a in chain if a.payer is not Payer.SERVER_KEY]
        if any(a.payer is Payer.USER_KEY for a in own):
            return QuotaHold(own)
        await self._refusals.record(tier, "quota_exceeded", caller.user_id)
        raise QuotaExceeded(limits.jobs_per_day, resets_in)

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
