"""The shared-state adapters on real Redis: what every API process must agree on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from infrastructure.state.redis import RedisAttemptCounter, RedisRevokedSessions
from tests import services


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"scribe-test-{services.RUN_ID}:{uuid.uuid4().hex[:6]}:"


async def test_a_revoked_session_is_revoked_for_every_client_until_it_expires(redis: Redis, prefix: str) -> None:
    first, second = RedisRevokedSessions(redis, prefix), RedisRevokedSessions(redis, prefix)
    session, other = uuid.uuid4(), uuid.uuid4()
    await first.revoke(session, datetime.now(UTC) + timedelta(minutes=5))
    assert await second.is_revoked(session)
    assert not await second.is_revoked(other)
    ttl = await redis.ttl(f"{prefix}revoked-session:{session}")
    assert 0 < ttl <= 301  # rounded up to the whole second


async def test_attempts_are_counted_across_clients_in_one_window(redis: Redis, prefix: str) -> None:
    first, second = RedisAttemptCounter(redis, prefix), RedisAttemptCounter(redis, prefix)
    assert (await first.increment("k", 60))[0] == 1
    count, resets_in = await second.increment("k", 60)
    assert count == 2
    assert 0 < resets_in <= 60
    await first.release("k")
    assert (await second.increment("k", 60))[0] == 2
    await second.reset("k")
    assert (await first.increment("k", 60))[0] == 1


async def test_release_never_goes_below_zero_or_creates_keys(redis: Redis, prefix: str) -> None:
    counter = RedisAttemptCounter(redis, prefix)
    await counter.release("absent")
    assert await redis.exists(f"{prefix}attempts:absent") == 0
    await counter.increment("k", 60)
    await counter.release("k")
    await counter.release("k")
    assert int(await redis.get(f"{prefix}attempts:k")) == 0
