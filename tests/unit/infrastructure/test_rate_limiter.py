"""The in-process GCRA against the definition it implements, and the switch to it while Redis is down."""

from __future__ import annotations

import asyncio
import math
from fractions import Fraction

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError

from application.limits import Decision, Rate
from infrastructure.state.failover import RedisFailover
from infrastructure.state.memory import InMemoryRateLimiter


class LeakyBucket:
    """The definition GCRA is equivalent to (ITU-T I.371's continuous-state leaky bucket), in exact fractions:
    each allowed request pours one unit in, the bucket drains one unit per interval, and a request that would
    overflow `limit` units is refused and pours nothing."""

    def __init__(self, rate: Rate) -> None:
        self.limit = rate.limit
        self.interval = rate.interval_us
        self.level = Fraction(0)
        self.last: int | None = None

    def hit(self, now: int) -> Decision:
        if self.last is not None:
            self.level = max(Fraction(0), self.level - Fraction(now - self.last, self.interval))
        self.last = now
        if self.level + 1 > self.limit:
            retry = (self.level + 1 - self.limit) * self.interval
            return Decision(False, self.limit, 0, float(self.level * self.interval) / 1e6, float(retry) / 1e6)
        self.level += 1
        remaining = math.floor(self.limit - self.level)
        return Decision(True, self.limit, remaining, float(self.level * self.interval) / 1e6, 0.0)


rates = st.builds(Rate, st.integers(1, 20), st.integers(1, 3600))
gaps_us = st.lists(st.integers(0, 400_000_000), min_size=1, max_size=80)  # up to ~7 minutes between hits


@given(rate=rates, gaps=gaps_us, start=st.integers(0, 10**15))
async def test_the_in_process_limiter_allows_exactly_what_the_leaky_bucket_allows(
    rate: Rate, gaps: list[int], start: int
) -> None:
    limiter, bucket = InMemoryRateLimiter(), LeakyBucket(rate)
    now = start
    for gap in gaps:
        now += gap
        got = await limiter.hit("k", rate, now_us=now)
        expected = bucket.hit(now)
        assert got.allowed == expected.allowed
        assert got.remaining == expected.remaining
        assert got.reset_after == pytest.approx(expected.reset_after, abs=1e-6)
        assert got.retry_after == pytest.approx(expected.retry_after, abs=1e-6)


@given(rate=rates, burst=st.integers(1, 60))
async def test_a_burst_gets_the_limit_and_no_more_and_headers_count_down(rate: Rate, burst: int) -> None:
    limiter = InMemoryRateLimiter()
    decisions = [await limiter.hit("k", rate, now_us=0) for _ in range(burst)]
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == min(burst, rate.limit)
    assert [d.remaining for d in allowed] == list(range(rate.limit - 1, rate.limit - 1 - len(allowed), -1))
    for refused in decisions[rate.limit :]:
        assert refused.remaining == 0
        assert refused.retry_seconds == math.ceil(rate.interval_us / 1e6)  # one request comes back per interval
        assert refused.reset_seconds == math.ceil(rate.interval_us * rate.limit / 1e6)


async def test_keys_are_limited_apart() -> None:
    limiter, rate = InMemoryRateLimiter(), Rate(1, 60)
    assert (await limiter.hit("user:a", rate, now_us=0)).allowed
    assert not (await limiter.hit("user:a", rate, now_us=0)).allowed
    assert (await limiter.hit("user:b", rate, now_us=0)).allowed


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_while_redis_is_down_memory_answers_and_redis_is_tried_again_after_a_pause() -> None:
    clock = Clock()
    failover = RedisFailover(retry_seconds=1.0, clock=clock)
    redis_up = False
    tried: list[str] = []

    async def on_redis() -> str:
        tried.append("redis")
        if not redis_up:
            raise RedisConnectionError("Connection refused")
        return "redis"

    async def in_memory() -> str:
        return "memory"

    with structlog.testing.capture_logs() as logs:
        assert await failover.call(on_redis, in_memory) == "memory"
        clock.now = 0.5
        assert await failover.call(on_redis, in_memory) == "memory"
        assert tried == ["redis"]  # not asked again within the pause: no connection attempt per request
        clock.now = 1.2
        assert await failover.call(on_redis, in_memory) == "memory"
        assert tried == ["redis", "redis"]
        redis_up = True
        clock.now = 2.5
        assert await failover.call(on_redis, in_memory) == "redis"
        assert await failover.call(on_redis, in_memory) == "redis"
    events = [line["event"] for line in logs]
    assert events.count("limits_in_memory") == 1  # once per outage
    assert events.count("limits_back_on_redis") == 1


async def test_while_one_request_asks_a_silent_redis_the_others_go_on_in_memory() -> None:
    clock = Clock()
    failover = RedisFailover(retry_seconds=1.0, clock=clock)
    answer = asyncio.Event()
    asked = 0

    async def silent_redis() -> str:
        nonlocal asked
        asked += 1
        if asked == 1:
            raise RedisConnectionError("Connection refused")
        await answer.wait()  # the socket timeout, in the real client
        raise RedisConnectionError("Timeout")

    async def in_memory() -> str:
        return "memory"

    await failover.call(silent_redis, in_memory)
    clock.now = 1.5
    probe = asyncio.create_task(failover.call(silent_redis, in_memory))
    await asyncio.sleep(0)
    assert [await failover.call(silent_redis, in_memory) for _ in range(3)] == ["memory"] * 3
    assert asked == 2  # the probe only
    answer.set()
    assert await probe == "memory"


async def test_a_full_connection_pool_is_not_an_outage() -> None:
    """Memory would give every key a fresh allowance: flooding the pool must not be a way around the limits."""
    failover = RedisFailover(clock=Clock())

    async def saturated() -> str:
        raise MaxConnectionsError("Too many connections")

    async def in_memory() -> str:
        return "memory"

    with pytest.raises(MaxConnectionsError):
        await failover.call(saturated, in_memory)
    assert not failover.in_memory
