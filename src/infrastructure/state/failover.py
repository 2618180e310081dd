"""Limits that survive a Redis outage: every call goes to Redis, and while Redis does not answer, to this
process's memory instead. A limiter that is down must not turn every login and every job into a 503; counting per
process for a while (each process allows its own share) is the lesser harm. Redis is tried again after
`retry_seconds`, and its first answer ends the outage: from then on every process agrees again."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError
from redis.exceptions import TimeoutError as RedisTimeoutError

from application.limits import Decision, Rate, Refusals
from infrastructure.outages import outages
from infrastructure.state.memory import InMemoryAttemptCounter, InMemoryRateLimiter, InMemoryRefusalLog
from infrastructure.state.redis import RedisAttemptCounter, RedisRateLimiter, RedisRefusalLog

log = structlog.get_logger("scribe.limits")

T = TypeVar("T")


class RedisFailover:
    """Shared by the limiter, the attempt counters and the refusal log: one outage, one switch."""

    def __init__(self, retry_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._next_try = 0.0

    @property
    def in_memory(self) -> bool:
        return self._down_since is not None

    async def call(self, on_redis: Callable[[], Awaitable[T]], in_memory: Callable[[], Awaitable[T]]) -> T:
        if self._down_since is not None:
            if self._clock() < self._next_try:
                return await in_memory()
            # One request asks Redis again; the others go on in memory until it answers (a hung Redis costs
            # the asker a socket timeout, not everyone).
            self._next_try = self._clock() + self._retry_seconds
        try:
            result = await on_redis()
        except MaxConnectionsError:
            raise  # this process's pool is full, Redis is fine: memory would hand out fresh allowances
        except (RedisConnectionError, RedisTimeoutError) as error:
            outages.failed("redis", error)
            if self._down_since is None:
                self._down_since = self._clock()
                log.warning("limits_in_memory", reason=type(error).__name__)
            self._next_try = self._clock() + self._retry_seconds
            return await in_memory()
        if self._down_since is not None:
            log.info("limits_back_on_redis", outage_seconds=round(self._clock() - self._down_since, 1))
            self._down_since = None
        return result


class FailoverRateLimiter:
    def __init__(self, redis: RedisRateLimiter, memory: InMemoryRateLimiter, failover: RedisFailover) -> None:
        self._redis = redis
        self._memory = memory
        self._failover = failover

    async def hit(self, key: str, rate: Rate) -> Decision:
        return await self._failover.call(lambda: self._redis.hit(key, rate), lambda: self._memory.hit(key, rate))


class FailoverAttemptCounter:
    def __init__(self, redis: RedisAttemptCounter, memory: InMemoryAttemptCounter, failover: RedisFailover) -> None:
        self._redis = redis
        self._memory = memory
        self._failover = failover

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        return await self._failover.call(
            lambda: self._redis.increment(key, window_seconds), lambda: self._memory.increment(key, window_seconds)
        )

    async def release(self, key: str) -> None:
        await self._failover.call(lambda: self._redis.release(key), lambda: self._memory.release(key))

    async def reset(self, key: str) -> None:
        await self._failover.call(lambda: self._redis.reset(key), lambda: self._memory.reset(key))

    async def count(self, key: str) -> int:
        return await self._failover.call(lambda: self._redis.count(key), lambda: self._memory.count(key))


class FailoverRefusalLog:
    def __init__(self, redis: RedisRefusalLog, memory: InMemoryRefusalLog, failover: RedisFailover) -> None:
        self._redis = redis
        self._memory = memory
        self._failover = failover

    async def record(self, tier: str, code: str, user_id: uuid.UUID | None) -> None:
        await self._failover.call(
            lambda: self._redis.record(tier, code, user_id), lambda: self._memory.record(tier, code, user_id)
        )

    async def recent(self, hours: int, top: int) -> Refusals:
        return await self._failover.call(
            lambda: self._redis.recent(hours, top), lambda: self._memory.recent(hours, top)
        )
