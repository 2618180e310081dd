"""Redis adapters for state every API process must share: attempt counters, and the announcements that keep
each process's copies (revoked sessions, cached users) in step with the others.

Checking a session on every request must not cost a round trip, so each process mirrors the revoked sessions
of the database (RevokedSessionMirror), loaded when it subscribes to one pub/sub channel (`<prefix>events`) and
kept current by the revocations announced there. Whenever the subscription is lost (start-up, Redis down or
restarted, a silent connection) the mirror is out of step and checks ask the database; on resubscribing it
loads again from the database, so Redis losing its data loses nothing. The same channel tells every process to
drop a user from its cache when that user changes; out of step, the cache is not used."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from datetime import datetime, timedelta

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.api_tokens import ApiToken
from domain.users import User
from infrastructure.outages import outages, unavailable_dependency
from infrastructure.state.memory import InMemoryUserCache, RevocationSource, RevokedSessionMirror, StateSync

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
_RESUBSCRIBE_SECONDS = 0.5  # how soon a lost subscription is tried again: recovery within a second


class RedisRevokedSessions(RevokedSessionMirror):
    def __init__(self, redis: Redis, prefix: str, source: RevocationSource, access_token_lifetime: timedelta) -> None:
        super().__init__(source, access_token_lifetime)
        self._redis = redis
        self._channel = f"{prefix}events"

    async def _announce(self, session_id: uuid.UUID, until: datetime) -> bool:
        try:
            await self._redis.publish(self._channel, f"revoke {session_id} {math.ceil(until.timestamp())}")
        except (RedisConnectionError, RedisTimeoutError) as error:
            outages.failed("redis", error)
            return False
        return True


class RedisBroadcastUserCache:
    """This process's short-lived user cache (users, their API tokens, who has no provider keys); an
    invalidation reaches every process through Redis. Used only while the subscription is in step: an
    invalidation may have been missed otherwise."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: float) -> None:
        self._redis = redis
        self._channel = f"{prefix}events"
        self.local = InMemoryUserCache(ttl_seconds)
        self.in_step = False

    def get(self, user_id: uuid.UUID) -> User | None:
        return self.local.get(user_id) if self.in_step else None

    def mark(self) -> int:
        return self.local.mark()

    def put(self, user: User, mark: int) -> None:
        self.local.put(user, mark)

    def api_token(self, token_hash: str) -> ApiToken | None:
        return self.local.api_token(token_hash) if self.in_step else None

    def put_api_token(self, token: ApiToken, mark: int) -> None:
        self.local.put_api_token(token, mark)

    def has_no_provider_keys(self, user_id: uuid.UUID) -> bool:
        return self.in_step and self.local.has_no_provider_keys(user_id)

    def put_no_provider_keys(self, user_id: uuid.UUID, mark: int) -> None:
        self.local.put_no_provider_keys(user_id, mark)

    async def invalidate(self, user_id: uuid.UUID) -> None:
        await self.local.invalidate(user_id)
        try:
            await self._redis.publish(self._channel, f"user {user_id}")
        except (RedisConnectionError, RedisTimeoutError) as error:
            # The change itself is committed. A process that missed this drops its whole cache when it
            # resubscribes, and keeps a copy no longer than the cache's lifetime anyway.
            outages.failed("redis", error)


class RedisStateSync(StateSync):
    def __init__(
        self, redis: Redis, prefix: str, sessions: RedisRevokedSessions, users: RedisBroadcastUserCache
    ) -> None:
        super().__init__(sessions)
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
                    _report(error)
            finally:
                if self._sessions.in_step and not _cancelling():
                    log.warning("state_sync_lost")
                self._sessions.in_step = self._users.in_step = False
            if not _cancelling():
                await asyncio.sleep(_RESUBSCRIBE_SECONDS)
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
                    # Subscribed first, then loaded from the database: nothing revoked in between is missed.
                    await self._sessions.load()
                    self._users.local.clear()
                    self._sessions.in_step = self._users.in_step = True
                    log.info("state_sync_in_step")
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


def _report(error: Exception) -> None:
    dependency = unavailable_dependency(error)
    if dependency is None and isinstance(error, ConnectionError):  # our own check: Redis fell silent
        dependency = "redis"
    if dependency is not None:
        outages.failed(dependency, error)
    else:
        log.exception("state_sync_failed")


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
