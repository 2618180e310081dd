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

from application.limits import Decision, Rate, Refusals
from domain.api_tokens import ApiToken
from domain.users import User
from infrastructure.outages import outages, unavailable_dependency
from infrastructure.state.memory import (
    Gcra,
    InMemoryUserCache,
    RevocationSource,
    RevokedSessionMirror,
    StateSync,
    hour_of,
)

log = structlog.get_logger("scribe.state")

# DECR that never goes below zero and never creates a key: one round trip, atomic.
_RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""
# GCRA (Gcra.step in memory.py, the same sums in whole microseconds), one round trip. KEYS[1] holds the key's
# theoretical arrival time; ARGV: interval, limit, and now ('' for Redis's own clock: every process agrees).
# Numbers are written with %.0f: Lua's default formatting keeps 14 digits, a time in microseconds has 16.
_GCRA = """
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * limit
if now < allow_at then
  return {0, string.format('%.0f', tat), 0, string.format('%.0f', tat - now), string.format('%.0f', allow_at - now)}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
local remaining = math.floor((now - allow_at) / interval)
return {1, string.format('%.0f', new_tat), remaining, string.format('%.0f', new_tat - now), 0}
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

    async def count(self, key: str) -> int:
        return int(await self._redis.get(self._prefix + key) or 0)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = f"{prefix}rate:"
        self._gcra = redis.register_script(_GCRA)

    async def hit(self, key: str, rate: Rate, *, now_us: int | None = None) -> Decision:
        now = "" if now_us is None else str(now_us)
        reply = await self._gcra(keys=[self._prefix + key], args=[rate.interval_us, rate.limit, now])
        allowed, tat, remaining, reset_us, retry_us = (int(x) for x in reply)
        return Gcra(bool(allowed), tat, remaining, reset_us, retry_us).decision(rate.limit)


_REFUSAL_TTL_SECONDS = 49 * 3600  # two days of hourly buckets, and the hour under way


class RedisRefusalLog:
    """Per wall-clock hour: a hash of refusals by `tier|code`, and a sorted set of refused users."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._reasons = f"{prefix}refusals:"
        self._users = f"{prefix}refused-users:"

    async def record(self, tier: str, code: str, user_id: uuid.UUID | None) -> None:
        hour = hour_of(time.time())
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(f"{self._reasons}{hour}", f"{tier}|{code}", 1)
            pipe.expire(f"{self._reasons}{hour}", _REFUSAL_TTL_SECONDS)
            if user_id is not None:
                pipe.zincrby(f"{self._users}{hour}", 1, str(user_id))
                pipe.expire(f"{self._users}{hour}", _REFUSAL_TTL_SECONDS)
            await pipe.execute()

    async def recent(self, hours: int, top: int) -> Refusals:
        now = hour_of(time.time())
        window = range(now - hours + 1, now + 1)
        async with self._redis.pipeline(transaction=False) as pipe:
            for hour in window:
                pipe.hgetall(f"{self._reasons}{hour}")
            pipe.zunion([f"{self._users}{hour}" for hour in window], withscores=True)
            *buckets, users = await pipe.execute()
        by_tier: dict[str, dict[str, int]] = {}
        for bucket in buckets:
            for field, count in bucket.items():
                tier, _, code = field.decode().partition("|")
                by_tier.setdefault(tier, {})[code] = by_tier.get(tier, {}).get(code, 0) + int(count)
        ranked = sorted(((uuid.UUID(member.decode()), int(score)) for member, score in users), key=lambda u: -u[1])
        return Refusals(by_tier, ranked[:top])
