"""Who may go ahead: counting attempts before the expensive or guessable part (so concurrency cannot outrun a
limit), and letting callers in, signed in or anonymous, before work done on their behalf."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from application.errors import AuthenticationFailed, PermissionDenied, RateLimited, TooManyAttempts
from application.limits import ANONYMOUS, LimitStatus, Rate, RateLimiter, RefusalLog, TierLimits
from application.ports import AttemptCounter
from domain.api_tokens import Scope
from domain.users import Tier

if TYPE_CHECKING:  # the auth use cases import this module: a runtime import would be circular
    from application.auth.authenticate import Principal


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    max_attempts: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Reservation:
    """The attempts one request was charged, to take back if its check could not run."""

    attempts: AttemptCounter
    limits: tuple[Limit, ...]

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
        for limit in limits:
            count, resets_in = await self._attempts.increment(limit.key, limit.window_seconds)
            if count > limit.max_attempts:
                raise TooManyAttempts(resets_in, limit.max_attempts)
        return Reservation(self._attempts, limits)

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
    tiers: Mapping[str, TierLimits]  # every user tier, and `anonymous`

    def limits_of(self, principal: Principal | None) -> tuple[str, TierLimits]:
        """The caller's tier and its limits: administrators have the admin tier whatever their stored one."""
        if principal is None:
            return ANONYMOUS, self.tiers[ANONYMOUS]
        user = principal.user
        tier = Tier.ADMIN if user.is_admin else user.tier
        return tier, self.tiers[tier]


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in principal, or an anonymous client known by its address (the prototype's frontend)."""

    principal: Principal | None
    address: str
    operator: bool = False  # the admin CLI: no anonymous policy or limit applies

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.principal.user.id if self.principal else None

    @property
    def rate_key(self) -> str:
        return f"user:{self.user_id}" if self.principal else f"address:{self.address}"


ADMISSION_ERRORS = (AuthenticationFailed, PermissionDenied, RateLimited)  # what `Admission` may raise


class Admission:
    """Lets a caller in before work done on their behalf: signed-in callers need the scope (processing writes
    history; reading a transcript only reads), anonymous ones the server's consent; then everyone but the operator
    stays under their tier's request rate (per user, or per address when anonymous)."""

    def __init__(
        self, policy: ProcessingPolicy, limiter: RateLimiter, refusals: RefusalLog, status: LimitStatus
    ) -> None:
        self._policy = policy
        self._limiter = limiter
        self._refusals = refusals
        self._status = status

    async def __call__(self, caller: Caller, scope: Scope = Scope.WRITE) -> None:
        if caller.principal is not None:
            caller.principal.require(scope)
        elif not caller.operator and not self._policy.allows_anonymous:
            raise AuthenticationFailed("anonymous_processing_disabled")
        if caller.operator:
            return
        tier, limits = self._policy.limits_of(caller.principal)
        if limits.requests is None:
            return
        decision = await self._limiter.hit(caller.rate_key, Rate(limits.requests, limits.period_seconds))
        self._status.decisions.append(decision)
        if not decision.allowed:
            await self._refusals.record(tier, "rate_limited", caller.user_id)
            raise RateLimited(decision.retry_seconds, decision.limit, decision.reset_seconds)
