from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests import services


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    """Keys of one test, under the run's prefix (which the session removes at the end)."""
    return f"scribe-test-{services.RUN_ID}:{uuid.uuid4().hex[:8]}:"
