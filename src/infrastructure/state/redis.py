"""Redis adapters for state every API process must share: the access-token deny-list and attempt counters."""

from __future__ import annotations

import math
from datetime import datetime

from redis.asyncio import Redis


class RedisTokenDenyList:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}deny:"

    async def deny(self, jti: str, until: datetime) -> None:
        await self._redis.set(self._prefix + jti, b"1", exat=math.ceil(until.timestamp()))

    async def is_denied(self, jti: str) -> bool:
        return bool(await self._redis.exists(self._prefix + jti))


class RedisAttemptCounter:
    """Fixed windows: INCR, EXPIRE NX and TTL in one MULTI round trip, so concurrent processes agree."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}attempts:"

    async def peek(self, key: str) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        return (int(count), max(int(ttl), 1)) if count is not None else (0, 0)

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(int(ttl), 1)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
