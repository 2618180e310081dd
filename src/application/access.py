"""Who may go ahead: counting attempts before the expensive or guessable part (so concurrency cannot outrun a
limit), and letting callers in, signed in or anonymous, before work done on their behalf."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from application.errors import AuthenticationFailed, PermissionDenied, TooManyAttempts
from application.ports import AttemptCounter
from domain.api_tokens import Scope

if TYPE_CHECKING:  # the auth use cases import this module: a runtime import would be circular
    from application.auth.authenticate import Principal


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


@dataclass(frozen=True, slots=True)
class ProcessingPolicy:
    allows_anonymous: bool
    anonymous_requests: int
    anonymous_window_seconds: int

    def anonymous_limit(self, address: str) -> Limit:
        return Limit(f"ai-anonymous:{address}", self.anonymous_requests, self.anonymous_window_seconds)


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in principal, or an anonymous client known by its address (the prototype's frontend)."""

    principal: Principal | None
    address: str
    operator: bool = False  # the admin CLI: no anonymous policy or limit applies
    # The limits this request was counted against, for the HTTP layer's `RateLimit-*` headers.
    quotas: list[Quota] = field(default_factory=list, compare=False)

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.principal.user.id if self.principal else None


ADMISSION_ERRORS = (AuthenticationFailed, PermissionDenied, TooManyAttempts)  # what `admit` may raise


async def admit(caller: Caller, policy: ProcessingPolicy, throttle: Throttle, scope: Scope = Scope.WRITE) -> None:
    """Signed-in callers need the scope (processing writes history; reading a transcript only reads); anonymous
    ones need the server's consent and stay under the per-address limit."""
    if caller.principal is not None:
        caller.principal.require(scope)
        return
    if caller.operator:
        return
    if not policy.allows_anonymous:
        raise AuthenticationFailed("anonymous_processing_disabled")
    caller.quotas.extend((await throttle.reserve(policy.anonymous_limit(caller.address))).quotas)
