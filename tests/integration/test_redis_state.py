"""The shared-state adapters on real Redis (and the database they mirror): what every API process must agree on."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.api_tokens import ApiToken, Scope
from domain.sessions import AuthSession
from domain.users import Email, User
from infrastructure.persistence.database import make_engine, make_session_factory
from infrastructure.persistence.repositories import SqlRevocationSource, SqlSessionRepository, SqlUserRepository
from infrastructure.state.redis import (
    RedisAttemptCounter,
    RedisBroadcastUserCache,
    RedisRevokedSessions,
    RedisStateSync,
)

LIFETIME = timedelta(minutes=15)


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(postgres_url)
    yield make_session_factory(engine)
    await engine.dispose()


async def _session(database: async_sessionmaker[AsyncSession], revoked: bool = False) -> uuid.UUID:
    """A login session stored in the database; `revoked`: ended there (and announced nowhere)."""
    now = datetime.now(UTC)
    user = User.register(Email(f"{uuid.uuid4().hex[:12]}@example.com"), "hash", now=now)
    session = AuthSession.start(user.id, now, timedelta(days=30))
    async with database() as s:
        await SqlUserRepository(s).add(user)
        await SqlSessionRepository(s).add(session)
        if revoked:
            await SqlSessionRepository(s).revoke(session.id, now)
        await s.commit()
    return session.id


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

    def __init__(self, redis: Redis, prefix: str, database: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = RedisRevokedSessions(redis, prefix, SqlRevocationSource(database), LIFETIME)
        self.users = RedisBroadcastUserCache(redis, prefix, ttl_seconds=60)
        self.sync = RedisStateSync(redis, prefix, self.sessions, self.users)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.sync.run())
        await _eventually(lambda: self.sessions.in_step)

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


async def test_a_new_process_loads_the_revocations_from_the_database_not_from_redis(
    redis: Redis, prefix: str, database: async_sessionmaker[AsyncSession]
) -> None:
    """Redis restarted empty (no persistence) must not make a newly started process forget a logout."""
    earlier = await _session(database, revoked=True)
    process = _Process(redis, prefix, database)
    await process.start()
    try:
        assert await process.sessions.is_revoked(earlier)
        assert not await process.sessions.is_revoked(await _session(database))
    finally:
        await process.stop()


async def test_revocations_and_user_changes_reach_the_other_processes(
    redis: Redis, prefix: str, database: async_sessionmaker[AsyncSession]
) -> None:
    a, b = _Process(redis, prefix, database), _Process(redis, prefix, database)
    await a.start()
    await b.start()
    try:
        session = uuid.uuid4()  # announced only: proves b answers from what it heard
        assert await a.sessions.revoke(session, datetime.now(UTC) + timedelta(minutes=5))
        await _eventually(lambda: session in b.sessions._until)
        assert await b.sessions.is_revoked(session)

        user = User.register(Email("ada@example.com"), "hash", now=datetime.now(UTC))
        token = ApiToken(uuid.uuid4(), user.id, "ci", "token-hash", "scribe_ab", (Scope.READ,), datetime.now(UTC), None)
        b.users.put(user, b.users.mark())
        b.users.put_api_token(token, b.users.mark())
        b.users.put_no_provider_keys(user.id, b.users.mark())
        assert b.users.get(user.id) is not None
        assert b.users.api_token("token-hash") == token
        assert b.users.has_no_provider_keys(user.id)
        await a.users.invalidate(user.id)  # e.g. the token was revoked, or a provider key saved, in process a
        await _eventually(lambda: b.users.get(user.id) is None)
        assert b.users.api_token("token-hash") is None
        assert not b.users.has_no_provider_keys(user.id)
    finally:
        await a.stop()
        await b.stop()
    assert not b.sessions.in_step  # stopped: checks go to the database again
    b.users.put(user, b.users.mark())
    b.users.put_api_token(token, b.users.mark())
    b.users.put_no_provider_keys(user.id, b.users.mark())
    assert b.users.get(user.id) is None  # and the user cache is not trusted
    assert b.users.api_token("token-hash") is None
    assert not b.users.has_no_provider_keys(user.id)


async def test_out_of_step_the_check_asks_the_database(
    redis: Redis, prefix: str, database: async_sessionmaker[AsyncSession]
) -> None:
    reader = RedisRevokedSessions(redis, prefix, SqlRevocationSource(database), LIFETIME)
    assert not reader.in_step
    assert await reader.is_revoked(await _session(database, revoked=True))
    assert not await reader.is_revoked(await _session(database))


async def test_a_connection_that_dies_silently_takes_the_mirror_out_of_step(
    redis: Redis, prefix: str, database: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy that stops forwarding without closing (an idle-timeout or a partition): the sync loop must
    notice from the missing pongs and fall back to the database, instead of trusting a stale mirror."""
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
    process = _Process(through_proxy, prefix, database)
    try:
        await process.start()
        frozen.set()
        await _eventually(lambda: not process.sessions.in_step)
    finally:
        await process.stop()
        for task in pumps:
            task.cancel()
        proxy.close()
        await through_proxy.aclose()
