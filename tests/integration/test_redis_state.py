"""The shared-state adapters on real Redis: what every API process must agree on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from infrastructure.state.redis import RedisAttemptCounter, RedisTokenDenyList
from tests import services


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"scribe-test-{services.RUN_ID}:{uuid.uuid4().hex[:6]}:"


async def test_a_denied_token_is_denied_for_every_client_until_it_expires(redis: Redis, prefix: str) -> None:
    first, second = RedisTokenDenyList(redis, prefix), RedisTokenDenyList(redis, prefix)
    await first.deny("jti-1", datetime.now(UTC) + timedelta(minutes=5))
    assert await second.is_denied("jti-1")
    assert not await second.is_denied("jti-2")
    assert 0 < await redis.ttl(f"{prefix}deny:jti-1") <= 300


async def test_attempts_are_counted_across_clients_in_one_window(redis: Redis, prefix: str) -> None:
    first, second = RedisAttemptCounter(redis, prefix), RedisAttemptCounter(redis, prefix)
    assert await first.peek("k") == (0, 0)
    await first.increment("k", 60)
    count, resets_in = await second.increment("k", 60)
    assert count == 2
    assert 0 < resets_in <= 60
    assert (await first.peek("k"))[0] == 2
    await second.reset("k")
    assert await first.peek("k") == (0, 0)
