"""The result cache and single-flight in Redis, shared by every API process.

Keys under `<prefix>results:`: `entry:<key>` (the answer), `recipe:<key>` (how to produce it again), `video:<id>`
and `user:<id>` (sets of entry keys, for purging), `requests:<hour>` (sorted sets counting requests per key),
`lock:<key>` (the single-flight lease) and `flight:<token>` (a finished flight's answer, for its waiters).

Redis being down never fails a request: the cache then misses and keeps nothing, single-flight only joins the
callers of one process, and both use Redis again as soon as it answers (each command tries anew)."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.processing.result_cache import POPULARITY_HOURS, StoredAnswer
from infrastructure.cache.memory import InProcessSingleFlight
from infrastructure.outages import outages

T = TypeVar("T")

# Only the holder of a lease may renew or end it (a leader that lost its lease must not end its successor's).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_FLIGHT_RESULT_SECONDS = 60  # long enough for every waiter's next poll to read it
_POLL_SECONDS = 0.05


def _bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _or(default: T, call: Awaitable[T]) -> T:
    """`call`'s value, or `default` while Redis cannot answer (reported once per outage)."""
    try:
        return await call
    except RedisError as error:
        outages.failed("redis", error)
        return default


class RedisResultStore:
    def __init__(self, redis: Redis, prefix: str, wall_clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._prefix = f"{prefix}results:"
        self._wall_clock = wall_clock

    def _name(self, kind: str, key: object) -> str:
        return f"{self._prefix}{kind}:{key}"

    async def get(self, key: str) -> bytes | None:
        return _bytes(await _or(None, self._redis.get(self._name("entry", key))))

    async def put(self, answer: StoredAnswer) -> None:
        ttl = answer.ttl_seconds
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._name("entry", answer.key), answer.value, ex=ttl)
        if answer.recipe is not None:
            pipe.set(self._name("recipe", answer.key), answer.recipe, ex=ttl)
        # An index lives as long as its newest entry; purging skips the keys that expired meanwhile.
        for index in (
            self._name("video", answer.video_id) if answer.video_id else None,
            self._name("user", answer.created_by) if answer.created_by else None,
        ):
            if index is not None:
                pipe.sadd(index, answer.key)
                pipe.expire(index, ttl)
        await _or(None, pipe.execute())

    async def seconds_left(self, key: str) -> float | None:
        milliseconds: int = await _or(-2, self._redis.pttl(self._name("entry", key)))
        return milliseconds / 1000 if milliseconds >= 0 else None

    async def recipe(self, key: str) -> bytes | None:
        return _bytes(await _or(None, self._redis.get(self._name("recipe", key))))

    # Purging is an operator's command: a Redis failure is reported to them, not hidden.

    async def purge_video(self, video_id: str) -> int:
        return await self._purge(self._name("video", video_id))

    async def purge_user(self, user_id: uuid.UUID) -> int:
        return await self._purge(self._name("user", user_id))

    async def _purge(self, index: str) -> int:
        keys = [_text(member) for member in await self._redis.smembers(index)]
        if not keys:
            return 0
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(*(self._name("entry", key) for key in keys))
        pipe.delete(*(self._name("recipe", key) for key in keys), index)
        deleted, _ = await pipe.execute()
        return int(deleted)

    def _hour(self, hour: int) -> str:
        return self._name("requests", hour)

    async def count_request(self, key: str) -> None:
        hour = int(self._wall_clock() // 3600)
        pipe = self._redis.pipeline(transaction=False)
        pipe.zincrby(self._hour(hour), 1, key)
        pipe.expire(self._hour(hour), (POPULARITY_HOURS + 1) * 3600)
        await _or(None, pipe.execute())

    async def most_requested(self, limit: int) -> list[str]:
        now = int(self._wall_clock() // 3600)
        hours = [self._hour(hour) for hour in range(now - POPULARITY_HOURS + 1, now + 1)]
        ranked: list[Any] = await _or([], self._redis.zunion(hours, withscores=True))
        ranked.sort(key=lambda pair: pair[1], reverse=True)
        return [_text(key) for key, _ in ranked[:limit]]


class RedisSingleFlight:
    """Across processes: the caller that sets `lock:<key>` (SET NX with a lease, renewed while it works) runs the
    job and leaves its answer under `flight:<token>`; the others poll for that answer. When the lease ends without
    an answer (the leader failed, or died and stopped renewing), a waiter takes the lock and runs the job itself.
    Within a process, callers first join one another (InProcessSingleFlight): one of them takes part here."""

    def __init__(self, redis: Redis, prefix: str, lease_seconds: float) -> None:
        self._redis = redis
        self._prefix = f"{prefix}results:"
        self._lease_ms = int(lease_seconds * 1000)
        self._local = InProcessSingleFlight()
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def run(self, key: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        return await self._local.run(key, lambda: self._across(key, work))

    async def _across(self, key: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        lock = f"{self._prefix}lock:{key}"
        while True:
            token = secrets.token_hex(16)
            try:
                if await self._redis.set(lock, token, nx=True, px=self._lease_ms):
                    break
                holder = _bytes(await self._redis.get(lock))
                value = await self._wait(lock, holder) if holder is not None else None
            except RedisError as error:  # nobody to agree with: this process's callers still share one job
                outages.failed("redis", error)
                return await work()
            if value is not None:
                return value
        return await self._lead(lock, token, work)

    async def _wait(self, lock: str, holder: bytes) -> bytes | None:
        """The holder's answer; None when it let go of the lock without one, or its lease ran out."""
        result = f"{self._prefix}flight:{holder.decode()}"
        while True:
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(lock)  # first: a leader stores its answer before it lets go, so a released lock's is visible
            pipe.get(result)
            current, value = await pipe.execute()
            if value is not None:
                return bytes(value)
            if current != holder:
                return None
            await asyncio.sleep(_POLL_SECONDS)

    async def _lead(self, lock: str, token: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        renewing = asyncio.create_task(self._keep(lock, token))
        try:
            value = await work()
            await _or(None, self._redis.set(f"{self._prefix}flight:{token}", value, ex=_FLIGHT_RESULT_SECONDS))
            return value
        finally:
            renewing.cancel()
            await _or(None, self._release(keys=[lock], args=[token]))

    async def _keep(self, lock: str, token: str) -> None:
        """Renews the lease while the job runs: a third of it at a time, so one slow round trip does not lose it."""
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            await _or(None, self._renew(keys=[lock], args=[token, self._lease_ms]))
