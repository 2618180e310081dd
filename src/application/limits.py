"""Request rates and what each tier may do: the GCRA limiter's port, its answers, the tiers' limits, and the log of
refusals that administrators read."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

ANONYMOUS = "anonymous"  # the tier of callers without an account, limited per address


@dataclass(frozen=True, slots=True)
class Rate:
    """`limit` requests per `period_seconds`, all of them at once if need be (GCRA with a burst of `limit`)."""

    limit: int
    period_seconds: float

    @property
    def interval_us(self) -> int:
        """Microseconds one request occupies; whole numbers so that Redis (Lua doubles) and Python agree."""
        return max(1, int(self.period_seconds * 1_000_000) // self.limit)


@dataclass(frozen=True, slots=True)
class Decision:
    """One request weighed against a rate: what the `RateLimit-*` headers and a 429's `Retry-After` say."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float  # seconds until the whole allowance is back
    retry_after: float  # seconds until the next request is allowed (0 when allowed)

    @property
    def reset_seconds(self) -> int:
        return math.ceil(self.reset_after)

    @property
    def retry_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after))


class RateLimiter(Protocol):
    """GCRA per key, atomic across every API process."""

    async def hit(self, key: str, rate: Rate) -> Decision: ...


@dataclass(frozen=True, slots=True)
class TierLimits:
    requests: int | None  # per `period_seconds`; None: not limited
    period_seconds: int
    jobs_per_day: int | None = None  # jobs paid with the server's keys per UTC day; None: no quota


@dataclass(frozen=True, slots=True)
class Refusals:
    """Requests refused (429) over some recent hours: by tier and reason, and the users refused most."""

    by_tier: Mapping[str, Mapping[str, int]]  # tier → {"rate_limited": n, "quota_exceeded": m}
    top_users: Sequence[tuple[uuid.UUID, int]]


class RefusalLog(Protocol):
    async def record(self, tier: str, code: str, user_id: uuid.UUID | None) -> None: ...

    async def recent(self, hours: int, top: int) -> Refusals: ...


class LimitStatus:
    """Request-scoped: the rates this request was weighed against, for the `RateLimit-*` headers of its answer."""

    def __init__(self) -> None:
        self.decisions: list[Decision] = []

    @property
    def tightest(self) -> Decision | None:
        return min(self.decisions, key=lambda d: (d.remaining, -d.reset_after), default=None)
