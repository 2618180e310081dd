"""The shared-state adapters on real Redis: what every API process must agree on."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from infrastructure.state.redis import (
    RedisAttemptCounter,
    RedisBroadcastUserCache,
    RedisRevokedSessions,
    RedisStateSync,
)


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


class _Process:
    """What one API process holds: its mirror of revoked sessions, its user cache, its sync loop."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.sessions = RedisRevokedSessions(redis, prefix)
        self.users = RedisBroadcastUserCache(redis, prefix, ttl_seconds=60)
        self.sync = RedisStateSync(redis, prefix, self.sessions, self.users)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.sync.run())
        await _eventually(lambda: self.sessions.mirrored)

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def _eventually(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 2 s")


async def test_a_new_process_loads_what_was_revoked_before_it_started(redis: Redis, prefix: str) -> None:
    earlier = uuid.uuid4()
    await RedisRevokedSessions(redis, prefix).revoke(earlier, datetime.now(UTC) + timedelta(minutes=5))
    process = _Process(redis, prefix)
    await process.start()
    try:
        await redis.delete(f"{prefix}revoked-session:{earlier}")  # proves the answer comes from the mirror
        assert await process.sessions.is_revoked(earlier)
    finally:
        await process.stop()


async def test_revocations_and_user_changes_reach_the_other_processes(redis: Redis, prefix: str) -> None:
    from domain.users import Email, User

    a, b = _Process(redis, prefix), _Process(redis, prefix)
    await a.start()
    await b.start()
    try:
        session = uuid.uuid4()
        await a.sessions.revoke(session, datetime.now(UTC) + timedelta(minutes=5))
        await _eventually(lambda: session in b.sessions._mirror)
        assert await b.sessions.is_revoked(session)

        user = User.register(Email("ada@example.com"), "hash", now=datetime.now(UTC))
        b.users.put(user, b.users.mark())
        await a.users.invalidate(user.id)
        await _eventually(lambda: b.users.get(user.id) is None)
    finally:
        await a.stop()
        await b.stop()
    assert not b.sessions.mirrored  # stopped: checks go to Redis again


async def test_without_a_mirror_the_check_asks_redis(redis: Redis, prefix: str) -> None:
    writer, reader = RedisRevokedSessions(redis, prefix), RedisRevokedSessions(redis, prefix)
    session = uuid.uuid4()
    await writer.revoke(session, datetime.now(UTC) + timedelta(minutes=5))
    assert not reader.mirrored
    assert await reader.is_revoked(session)


async def test_a_connection_that_dies_silently_takes_the_mirror_out_of_step(
    redis: Redis, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy that stops forwarding without closing (an idle-timeout or a partition): the sync loop must
    notice from the missing pongs and fall back to asking Redis, instead of trusting a stale mirror."""
    monkeypatch.setattr("infrastructure.state.redis._PING_SECONDS", 0.1)
    monkeypatch.setattr("infrastructure.state.redis._SILENCE_SECONDS", 0.5)
    frozen = asyncio.Event()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                if frozen.is_set():
                    continue  # swallow: the socket stays open, nothing gets through
                writer.write(data)
                await writer.drain()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", 6379)
        pumps.extend(
            [
                asyncio.create_task(pipe(client_reader, server_writer)),
                asyncio.create_task(pipe(server_reader, client_writer)),
            ]
        )

    pumps: list[asyncio.Task[None]] = []
    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    through_proxy = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=5)
    process = _Process(through_proxy, prefix)
    try:
        await process.start()
        frozen.set()
        await _eventually(lambda: not process.sessions.mirrored)
    finally:
        await process.stop()
        for task in pumps:
            task.cancel()
        proxy.close()
        await through_proxy.aclose()
