"""Provider stats shared through Redis: two API processes, one comparison."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from application.processing.ports import CallRecord
from domain.usage import Spend
from infrastructure.ai.redis_stats import RedisProviderStats


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_two_processes_see_the_same_totals(redis: Redis, prefix: str) -> None:
    clock = Clock()
    first, second = (RedisProviderStats(redis, prefix, 3600, clock) for _ in range(2))
    for latency in (10.0, 20.0, 30.0):
        first.record(CallRecord("anthropic", "m", latency, "ok", Spend(100, 50, 0.001)))
    second.record(CallRecord("anthropic", "m", 40.0, "ok", Spend(100, 50, 0.001)))
    second.record(CallRecord("anthropic", "m", 900.0, "timeout"))
    second.fallback("anthropic")
    [view] = await first.snapshot()
    assert view.calls == 3  # the other process has not flushed yet (its loop does every second)
    await second.flush()

    for stats in (first, second):
        [view] = await stats.snapshot()
        assert (view.provider, view.calls, view.errors, view.fallbacks) == ("anthropic", 5, 1, 1)
        assert (view.spend.tokens_in, view.spend.tokens_out) == (400, 200)
        assert view.spend.cost_usd == pytest.approx(0.004)
        assert view.latency_p50_ms == pytest.approx(25.0)  # timeouts are not latencies


async def test_calls_older_than_the_window_drop_out(redis: Redis, prefix: str) -> None:
    clock = Clock()
    stats = RedisProviderStats(redis, prefix, 600, clock)
    stats.record(CallRecord("openai", "m", 10.0, "ok"))
    await stats.flush()
    clock.now += 300
    stats.record(CallRecord("openai", "m", 10.0, "ok"))
    assert [v.calls for v in await stats.snapshot()] == [2]
    clock.now += 400  # the first call is now 700 s old
    assert [v.calls for v in await stats.snapshot()] == [1]
    ttls = [await redis.ttl(key) for key in await redis.keys(f"{prefix}ai-stats:openai:*")]
    assert ttls
    assert all(0 < ttl <= 600 + 2 * 10 for ttl in ttls)  # Redis forgets them too


async def test_a_failed_flush_keeps_the_counts_for_the_next_one(redis: Redis, prefix: str) -> None:
    stats = RedisProviderStats(Redis.from_url("redis://127.0.0.1:1"), prefix, 3600)
    stats.record(CallRecord("gemini", "m", 10.0, "ok", Spend(5, 5)))
    with pytest.raises(Exception, match=r"(?i)connect"):
        await stats.flush()
    stats._redis = redis  # Redis is back
    [view] = await stats.snapshot()
    assert (view.calls, view.spend.tokens_in) == (1, 5)
