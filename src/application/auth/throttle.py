"""Counting attempts before doing the expensive or guessable part, so concurrency cannot outrun a limit."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import TooManyAttempts
from application.ports import AttemptCounter


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    max_attempts: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Quota:
    """Where a caller stands against one limit after this attempt (what `RateLimit-*` headers tell clients)."""

    limit: Limit
    used: int
    resets_in: int  # seconds

    @property
    def remaining(self) -> int:
        return max(0, self.limit.max_attempts - self.used)


@dataclass(frozen=True, slots=True)
class Reservation:
    """The attempts one request was charged, to take back if its check could not run."""

    attempts: AttemptCounter
    limits: tuple[Limit, ...]
    quotas: tuple[Quota, ...]  # where the caller stands against each limit now

    async def cancel(self) -> None:
        """The check could not be made (a database outage, a flooded hasher, a cancelled request): nobody
        guessed anything, so nobody's allowance may shrink. Otherwise a 5 s outage becomes a lockout."""
        for limit in self.limits:
            await self.attempts.release(limit.key)


class Throttle:
    def __init__(self, attempts: AttemptCounter) -> None:
        self._attempts = attempts

    async def reserve(self, *limits: Limit) -> Reservation:
        """Count this attempt against each limit in turn; the first one exceeded refuses it (and the later
        ones are not charged, so one noisy address cannot use up an account's allowance)."""
        quotas = []
        for limit in limits:
            count, resets_in = await self._attempts.increment(limit.key, limit.window_seconds)
            if count > limit.max_attempts:
                raise TooManyAttempts(resets_in, limit.max_attempts)
            quotas.append(Quota(limit, count, min(resets_in, limit.window_seconds)))  # counters round up
        return Reservation(self._attempts, limits, tuple(quotas))

    async def forget(self, *limits: Limit) -> None:
        """A success: these counts start again."""
        for limit in limits:
            await self._attempts.reset(limit.key)

    async def refund(self, limit: Limit) -> None:
        """A success that should not count at all (e.g. against a shared address)."""
        await self._attempts.release(limit.key)
