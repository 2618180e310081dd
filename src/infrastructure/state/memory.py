"""In-process state for the embedded (single-process) runtime. Production uses the Redis twins."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypeVar

from application.limits import Decision, Rate, Refusals
from domain.api_tokens import ApiToken
from domain.users import User
from infrastructure.outages import outages, unavailable_dependency

_MAX_ENTRIES = 100_000
T = TypeVar("T")


class RevocationSource(Protocol):
    """The database's revoked sessions, which the mirror copies."""

    async def revoked_since(self, since: datetime) -> list[tuple[uuid.UUID, datetime]]: ...

    async def is_revoked(self, session_id: uuid.UUID) -> bool: ...


class RevokedSessionMirror:
    """This process's copy of the sessions revoked within an access token's lifetime. While `in_step` is False
    (start-up, a lost connection to the other processes) the copy may miss revocations, so checks ask the
    database instead; an unreachable database then fails the request (503), never lets it through.

    In-process runtime: one process sees every revocation, so the copy is in step once loaded. The Redis
    runtime subclasses it to announce revocations and follow the others'."""

    def __init__(self, source: RevocationSource, access_token_lifetime: timedelta) -> None:
        self._source = source
        self._lifetime = access_token_lifetime
        self._until: dict[uuid.UUID, float] = {}
        self.in_step = False

    async def revoke(self, session_id: uuid.UUID, until: datetime) -> bool:
        self.remember(session_id, until.timestamp())
        return await self._announce(session_id, until)

    async def _announce(self, session_id: uuid.UUID, until: datetime) -> bool:
        return True  # no other process to tell

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        if not self.in_step:
            return await self._source.is_revoked(session_id)
        until = self._until.get(session_id)
        return until is not None and until > time.time()

    def remember(self, session_id: uuid.UUID, until: float) -> None:
        if len(self._until) >= _MAX_ENTRIES:
            self.forget_expired()
        self._until[session_id] = until

    def forget_expired(self) -> None:
        """Revocations outlive the access tokens they stop by nothing: drop the ended ones."""
        now = time.time()
        self._until = {k: v for k, v in self._until.items() if v > now}

    async def load(self) -> None:
        """Adds what the database holds (never removes: an announcement heard meanwhile stays)."""
        since = datetime.now(UTC) - self._lifetime
        for session_id, revoked_at in await self._source.revoked_since(since):
            self.remember(session_id, (revoked_at + self._lifetime).timestamp())


class StateSync:
    """Brings this process's mirror in step: for the in-process runtime, one load from the database at start
    (retried until the database answers; until then checks ask the database)."""

    def __init__(self, sessions: RevokedSessionMirror) -> None:
        self._sessions = sessions

    async def run(self) -> None:
        while True:
            try:
                await self._sessions.load()
            except Exception as error:
                dependency = unavailable_dependency(error)
                if dependency is None:
                    raise
                outages.failed(dependency, error)
                await asyncio.sleep(1)
                continue
            self._sessions.in_step = True
            return


class InMemoryAttemptCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        count, resets_at = self._windows.get(key, (0, 0.0))
        if resets_at <= now:
            if len(self._windows) >= _MAX_ENTRIES:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            count, resets_at = 0, now + window_seconds
        self._windows[key] = (count + 1, resets_at)
        return count + 1, int(resets_at - now) + 1

    async def release(self, key: str) -> None:
        count, resets_at = self._windows.get(key, (0, 0.0))
        if count > 0:
            self._windows[key] = (count - 1, resets_at)

    async def count(self, key: str) -> int:
        count, resets_at = self._windows.get(key, (0, 0.0))
        return count if resets_at > time.monotonic() else 0

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


class InMemoryUserCache:
    """Short-lived by design (SPEC §2): another process's change shows here within `ttl_seconds`."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[uuid.UUID, tuple[User, float]] = {}
        self._tokens: dict[str, tuple[ApiToken, float]] = {}
        self._without_keys: dict[uuid.UUID, float] = {}
        self._invalidations = 0

    def get(self, user_id: uuid.UUID) -> User | None:
        return _fresh(self._entries.get(user_id))

    def mark(self) -> int:
        return self._invalidations

    def put(self, user: User, mark: int) -> None:
        if self._keeps(mark, self._entries):
            self._entries[user.id] = (user, self._expiry())

    def api_token(self, token_hash: str) -> ApiToken | None:
        return _fresh(self._tokens.get(token_hash))

    def put_api_token(self, token: ApiToken, mark: int) -> None:
        if self._keeps(mark, self._tokens):
            self._tokens[token.token_hash] = (token, self._expiry())

    def has_no_provider_keys(self, user_id: uuid.UUID) -> bool:
        expiry = self._without_keys.get(user_id)
        return expiry is not None and expiry >= time.monotonic()

    def put_no_provider_keys(self, user_id: uuid.UUID, mark: int) -> None:
        if self._keeps(mark, self._without_keys):
            self._without_keys[user_id] = self._expiry()

    async def invalidate(self, user_id: uuid.UUID) -> None:
        self._invalidations += 1
        self._entries.pop(user_id, None)
        self._without_keys.pop(user_id, None)
        # A scan, not an index: invalidations are rare (a user changed), and the entries live seconds.
        self._tokens = {h: entry for h, entry in self._tokens.items() if entry[0].user_id != user_id}

    def clear(self) -> None:
        self._invalidations += 1
        self._entries.clear()
        self._tokens.clear()
        self._without_keys.clear()

    def _keeps(self, mark: int, entries: dict[Any, Any]) -> bool:
        """Whether a copy read since `mark` may be kept (making room when the cache is full)."""
        if self._ttl <= 0 or mark != self._invalidations:
            return False
        if len(entries) >= _MAX_ENTRIES:
            entries.clear()
        return True

    def _expiry(self) -> float:
        return time.monotonic() + self._ttl


def _fresh(entry: tuple[T, float] | None) -> T | None:
    if entry is None or entry[1] < time.monotonic():
        return None
    return entry[0]


class Gcra(NamedTuple):
    """One step of the generic cell rate algorithm, in whole microseconds (the Redis script does the same sums)."""

    allowed: bool
    tat: int  # the key's theoretical arrival time after this request
    remaining: int
    reset_us: int
    retry_us: int

    @classmethod
    def step(cls, tat: int, now: int, interval: int, limit: int) -> Gcra:
        """`tat`: the key's stored arrival time (`now` when it has none). A request is allowed while the arrival
        time it leads to is at most `limit` intervals ahead of now; a refused one changes nothing."""
        tat = max(tat, now)
        new_tat = tat + interval
        allow_at = new_tat - interval * limit
        if now < allow_at:
            return cls(False, tat, 0, tat - now, allow_at - now)
        return cls(True, new_tat, (now - allow_at) // interval, new_tat - now, 0)

    def decision(self, limit: int) -> Decision:
        return Decision(self.allowed, limit, self.remaining, self.reset_us / 1e6, self.retry_us / 1e6)


class InMemoryRateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, int] = {}

    async def hit(self, key: str, rate: Rate, *, now_us: int | None = None) -> Decision:
        now = int(self._clock() * 1_000_000) if now_us is None else now_us
        step = Gcra.step(self._tats.get(key, now), now, rate.interval_us, rate.limit)
        if step.allowed:
            if len(self._tats) >= _MAX_ENTRIES:  # keys whose allowance is whole again hold nothing
                self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
            self._tats[key] = step.tat
        return step.decision(rate.limit)


_REFUSAL_HOURS_KEPT = 48


def hour_of(timestamp: float) -> int:
    return int(timestamp // 3600)


class InMemoryRefusalLog:
    """Refusals per wall-clock hour, kept two days."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._reasons: dict[int, Counter[tuple[str, str]]] = {}
        self._users: dict[int, Counter[uuid.UUID]] = {}

    async def record(self, tier: str, code: str, user_id: uuid.UUID | None) -> None:
        hour = hour_of(self._clock())
        for kept in (self._reasons, self._users):
            for old in [h for h in kept if h <= hour - _REFUSAL_HOURS_KEPT]:
                del kept[old]
        self._reasons.setdefault(hour, Counter())[(tier, code)] += 1
        if user_id is not None:
            self._users.setdefault(hour, Counter())[user_id] += 1

    async def recent(self, hours: int, top: int) -> Refusals:
        since = hour_of(self._clock()) - hours
        reasons: Counter[tuple[str, str]] = sum((c for h, c in self._reasons.items() if h > since), Counter())
        users: Counter[uuid.UUID] = sum((c for h, c in self._users.items() if h > since), Counter())
        by_tier: dict[str, dict[str, int]] = {}
        for (tier, code), count in reasons.items():
            by_tier.setdefault(tier, {})[code] = count
        return Refusals(by_tier, users.most_common(top))
