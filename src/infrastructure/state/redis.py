"""Redis adapters for state every API process must share: revoked sessions, attempt counters, and the
invalidation of cached users.

Checking a session on every request must not cost a Redis round trip, so each process keeps a mirror of the
revoked sessions, loaded at start and kept current through one pub/sub channel (`<prefix>events`). Until the
mirror is in step (start-up, a lost connection) checks go to Redis directly. The same channel tells every
process to drop a user from its cache when that user changes."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from datetime import datetime

import structlog
from redis.asyncio import Redis

from domain.users import User
from infrastructure.state.memory import InMemoryUserCache

log = structlog.get_logger("scribe.state")

# DECR that never goes below zero and never creates a key: one round trip, atomic.
_RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""
# The sync loop pings Redis this often and gives the connection up when nothing came back for the second
# figure: a connection that died silently (idle timeout, partition) must not leave the mirror "in step".
_PING_SECONDS = 2.0
_SILENCE_SECONDS = 6.0


class RedisRevokedSessions:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._keys = f"{prefix}revoked-session:"
        self._channel = f"{prefix}events"
        self._mirror: dict[uuid.UUID, float] = {}
        self.mirrored = False  # set by RedisStateSync while the mirror is known to be complete

    async def revoke(self, session_id: uuid.UUID, until: datetime) -> None:
        expires = math.ceil(until.timestamp())
        async with self._redis.pipeline(transaction=True) as pipe:  # both or neither
            pipe.set(f"{self._keys}{session_id}", b"1", exat=expires)
            pipe.publish(self._channel, f"revoke {session_id} {expires}")
            await pipe.execute()
        self.remember(session_id, expires)

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        if self.mirrored:
            until = self._mirror.get(session_id)
            return until is not None and until > time.time()
        return bool(await self._redis.exists(f"{self._keys}{session_id}"))

    def remember(self, session_id: uuid.UUID, until: float) -> None:
        self._mirror[session_id] = until

    def forget_expired(self) -> None:
        """Revocations outlive the access tokens they stop by nothing: drop the ended ones."""
        now = time.time()
        self._mirror = {k: v for k, v in self._mirror.items() if v > now}

    async def load(self) -> None:
        """Everything revoked so far, from the keys themselves (their TTL is the revocation's end)."""
        names = [name async for name in self._redis.scan_iter(match=f"{self._keys}*", count=1000)]
        if not names:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.ttl(name)
            ttls = await pipe.execute()
        now = time.time()
        for name, ttl in zip(names, ttls, strict=True):
            if ttl > 0:
                key = name.decode() if isinstance(name, bytes) else name
                self.remember(uuid.UUID(key.removeprefix(self._keys)), now + ttl)


class RedisBroadcastUserCache:
    """This process's short-lived user cache; an invalidation reaches every process through Redis."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: float) -> None:
        self._redis = redis
        self._channel = f"{prefix}events"
        self.local = InMemoryUserCache(ttl_seconds)

    def get(self, user_id: uuid.UUID) -> User | None:
        return self.local.get(user_id)

    def mark(self) -> int:
        return self.local.mark()

    def put(self, user: User, mark: int) -> None:
        self.local.put(user, mark)

    async def invalidate(self, user_id: uuid.UUID) -> None:
        await self.local.invalidate(user_id)
        await self._redis.publish(self._channel, f"user {user_id}")


class StateSync:
    """Keeps this process's mirrors in step with the other processes. In-process state needs nothing."""

    async def run(self) -> None:
        return


class RedisStateSync(StateSync):
    def __init__(self, redis: Redis, prefix: str, sessions: RedisRevokedSessions, users: RedisBroadcastUserCache):
        self._redis = redis
        self._channel = f"{prefix}events"
        self._sessions = sessions
        self._users = users

    async def run(self) -> None:
        while not _cancelling():
            try:
                await self._follow()
            except Exception as error:  # any failure: out of step until resubscribed and reloaded
                if not _cancelling():
                    log.warning("state_sync_lost", error=type(error).__name__)
            finally:
                self._sessions.mirrored = False
            if not _cancelling():
                await asyncio.sleep(1)
        raise asyncio.CancelledError

    async def _follow(self) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            heard = pinged = time.monotonic()
            # Short polls rather than listen(): redis-py can swallow a cancellation inside a blocking read,
            # so the loop checks for it itself, and pings to notice a connection that died silently.
            while not _cancelling():
                now = time.monotonic()
                if now - heard > _SILENCE_SECONDS:
                    raise ConnectionError("no answer from Redis")
                if now - pinged > _PING_SECONDS:
                    await pubsub.ping()
                    self._sessions.forget_expired()
                    pinged = now
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                heard = time.monotonic()
                if message["type"] == "subscribe":
                    # Subscribed first, then loaded: nothing revoked in between can be missed.
                    await self._sessions.load()
                    self._users.local.clear()
                    self._sessions.mirrored = True
                elif message["type"] == "message":
                    await self._apply(message["data"].decode())
                # "pong" replies only prove the connection lives

    async def _apply(self, event: str) -> None:
        kind, _, rest = event.partition(" ")
        if kind == "revoke":
            session_id, _, until = rest.partition(" ")
            self._sessions.remember(uuid.UUID(session_id), float(until))
        elif kind == "user":
            await self._users.local.invalidate(uuid.UUID(rest))


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
