"""The limiter's Redis script on real Redis: the same answers as the in-process GCRA, atomic under concurrent
clients, and the refusal log and day counters every process reads."""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from application.limits import Rate
from infrastructure.state.memory import InMemoryRateLimiter, InMemoryRefusalLog
from infrastructure.state.redis import RedisAttemptCounter, RedisRateLimiter, RedisRefusalLog


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.builds(Rate, st.integers(1, 20), st.integers(1, 3600)),
    gaps=st.lists(st.integers(0, 400_000_000), min_size=1, max_size=60),
    start=st.integers(1_600_000_000_000_000, 2_000_000_000_000_000),  # microseconds since 1970, as Redis's TIME
)
async def test_the_redis_script_answers_as_the_in_process_limiter(
    redis: Redis, prefix: str, rate: Rate, gaps: list[int], start: int
) -> None:
    on_redis, in_memory = RedisRateLimiter(redis, prefix), InMemoryRateLimiter()
    key, now = uuid.uuid4().hex, start
    for gap in gaps:
        now += gap
        assert await on_redis.hit(key, rate, now_us=now) == await in_memory.hit(key, rate, now_us=now)


async def test_concurrent_hits_from_several_clients_get_exactly_the_limit(redis_url: str, prefix: str) -> None:
    clients = [Redis.from_url(redis_url) for _ in range(3)]
    limiters = [RedisRateLimiter(client, prefix) for client in clients]
    rate = Rate(10, 3600)
    try:
        decisions = await asyncio.gather(*(limiters[i % 3].hit("burst", rate) for i in range(60)))
    finally:
        for client in clients:
            await client.aclose()
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 10
    assert sorted(d.remaining for d in allowed) == list(range(10))  # each count handed out once
    assert all(d.retry_seconds > 0 for d in decisions if not d.allowed)


async def test_a_key_expires_when_its_allowance_is_whole_again(redis: Redis, prefix: str) -> None:
    await RedisRateLimiter(redis, prefix).hit("k", Rate(5, 60))
    ttl_ms = await redis.pttl(f"{prefix}rate:k")
    assert 0 < ttl_ms <= 12_000  # one request of five per minute: back after 12 s


async def test_day_counters_read_what_was_counted(redis: Redis, prefix: str) -> None:
    counter = RedisAttemptCounter(redis, prefix)
    assert await counter.count("jobs") == 0
    await counter.increment("jobs", 60)
    await counter.increment("jobs", 60)
    await counter.release("jobs")
    assert await counter.count("jobs") == 1


async def test_the_refusal_log_sums_tiers_and_ranks_users_as_the_in_process_one(redis: Redis, prefix: str) -> None:
    on_redis, in_memory = RedisRefusalLog(redis, prefix), InMemoryRefusalLog()
    often, seldom = uuid.uuid4(), uuid.uuid4()
    refusals = [
        ("free", "rate_limited", often),
        ("free", "quota_exceeded", often),
        ("free", "rate_limited", seldom),
        ("anonymous", "rate_limited", None),
        ("free", "rate_limited", often),
    ]
    for log in (on_redis, in_memory):
        for tier, code, user in refusals:
            await log.record(tier, code, user)
    for log in (on_redis, in_memory):
        recent = await log.recent(hours=24, top=1)
        assert recent.by_tier == {"free": {"rate_limited": 3, "quota_exceeded": 1}, "anonymous": {"rate_limited": 1}}
        assert list(recent.top_users) == [(often, 3)]
