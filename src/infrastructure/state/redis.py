"""Redis adapters for state every API process must share: revoked sessions and attempt counters."""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from redis.asyncio import Redis

# DECR that never goes below zero and never creates a key: one round trip, atomic.
_RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisRevokedSessions:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}revoked-session:"

    async def revoke(self, session_id: uuid.UUID, until: datetime) -> None:
        await self._redis.set(f"{self._prefix}{session_id}", b"1", exat=math.ceil(until.timestamp()))

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        return bool(await self._redis.exists(f"{self._prefix}{session_id}"))


class RedisAttemptCounter:
    """Fixed windows: INCR, EXPIRE NX and TTL in one MULTI round trip, so concurrent processes agree."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}attempts:"
        self._release = redis.register_script(_RELEASE)

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        return int(count), max(int(ttl), 1)

    async def release(self, key: str) -> None:
        await self._release(keys=[self._prefix + key])

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
