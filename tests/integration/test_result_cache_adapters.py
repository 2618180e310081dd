"""The result store and single-flight contracts, run on both adapters: in-process (the embedded runtime) and Redis
(every API process). Redis ones also across two clients (as two processes would be), with a leader that died, and
with Redis unreachable."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from application.processing.result_cache import ResultStore, SingleFlight, StoredAnswer
from infrastructure.cache.memory import InMemoryResultStore, InProcessSingleFlight
from infrastructure.cache.redis import RedisResultStore, RedisSingleFlight
from tests.own_services import free_port

ADA, BOB = uuid.uuid4(), uuid.uuid4()


def answer(key: str, video: str | None = None, by: uuid.UUID | None = None, ttl: int = 60) -> StoredAnswer:
    return StoredAnswer(key, f"answer {key}".encode(), ttl, video, by, f"recipe {key}".encode())


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ResultStore:
    if request.param == "memory":
        return InMemoryResultStore()
    redis: Redis = request.getfixturevalue("redis")
    return RedisResultStore(redis, request.getfixturevalue("prefix"))


@pytest.fixture(params=["memory", "redis"])
def flights(request: pytest.FixtureRequest) -> Callable[[], SingleFlight]:
    """Makes the single-flight of one more "process": in-process ones share nothing, Redis ones share the server."""
    if request.param == "memory":
        shared = InProcessSingleFlight()
        return lambda: shared
    redis: Redis = request.getfixturevalue("redis")
    prefix: str = request.getfixturevalue("prefix")
    return lambda: RedisSingleFlight(redis, prefix, lease_seconds=1.0)


async def test_an_answer_is_kept_for_its_lifetime_with_its_recipe(store: ResultStore) -> None:
    await store.put(answer("k1", ttl=1))
    assert await store.get("k1") == b"answer k1"
    assert await store.recipe("k1") == b"recipe k1"
    left = await store.seconds_left("k1")
    assert left is not None
    assert 0 < left <= 1
    assert await store.get("absent") is None
    assert await store.seconds_left("absent") is None
    await asyncio.sleep(1.1)
    assert await store.get("k1") is None
    assert await store.recipe("k1") is None


async def test_purging_a_video_or_a_user_drops_exactly_their_answers(store: ResultStore) -> None:
    await store.put(answer("v1-ada", video="v1", by=ADA))
    await store.put(answer("v1-bob", video="v1", by=BOB))
    await store.put(answer("v2-ada", video="v2", by=ADA))
    await store.put(answer("text-bob", by=BOB))

    assert await store.purge_video("v1") == 2
    assert [await store.get(k) is None for k in ("v1-ada", "v1-bob", "v2-ada", "text-bob")] == [
        True,
        True,
        False,
        False,
    ]
    assert await store.purge_video("v1") == 0
    assert await store.purge_user(ADA) == 1  # v2-ada; v1-ada is gone already
    assert await store.get("v2-ada") is None
    assert await store.get("text-bob") == b"answer text-bob"


async def test_the_most_requested_keys_come_first(store: ResultStore) -> None:
    for key, times in (("rare", 1), ("popular", 5), ("middling", 3)):
        for _ in range(times):
            await store.count_request(key)
    assert await store.most_requested(2) == ["popular", "middling"]


async def test_concurrent_callers_of_one_key_share_one_run(flights: Callable[[], SingleFlight]) -> None:
    processes = [flights(), flights()]
    runs = 0

    async def work() -> bytes:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.3)
        return b"the answer"

    values = await asyncio.gather(*(processes[i % 2].run("same", work) for i in range(20)))

    assert runs == 1
    assert values == [b"the answer"] * 20


async def test_different_keys_do_not_wait_for_each_other(flights: Callable[[], SingleFlight]) -> None:
    flight = flights()

    async def work(value: bytes) -> bytes:
        await asyncio.sleep(0.2)
        return value

    started = time.monotonic()
    values = await asyncio.gather(flight.run("a", lambda: work(b"a")), flight.run("b", lambda: work(b"b")))
    assert values == [b"a", b"b"]
    assert time.monotonic() - started < 0.39


async def test_a_failed_run_is_not_shared_with_later_callers(flights: Callable[[], SingleFlight]) -> None:
    flight = flights()

    async def fail() -> bytes:
        raise RuntimeError("provider down")

    async def succeed() -> bytes:
        return b"second try"

    with pytest.raises(RuntimeError):
        await flight.run("k", fail)
    assert await flight.run("k", succeed) == b"second try"


async def test_when_a_processes_leader_fails_the_other_process_runs_the_job_itself(redis: Redis, prefix: str) -> None:
    first, second = RedisSingleFlight(redis, prefix, 1.0), RedisSingleFlight(redis, prefix, 1.0)

    async def fail() -> bytes:
        await asyncio.sleep(0.2)
        raise RuntimeError("provider down")

    async def succeed() -> bytes:
        return b"from the waiter"

    leading = asyncio.ensure_future(first.run("k", fail))
    await asyncio.sleep(0.05)
    waiting = asyncio.ensure_future(second.run("k", succeed))

    with pytest.raises(RuntimeError):
        await leading
    assert await waiting == b"from the waiter"


async def test_a_dead_leaders_lease_runs_out_and_a_waiter_takes_over(redis: Redis, prefix: str) -> None:
    # A leader that died: its lock is there, nobody renews it and no answer will come.
    await redis.set(f"{prefix}results:lock:k", "dead-leader", px=500)
    flight = RedisSingleFlight(redis, prefix, lease_seconds=1.0)

    started = time.monotonic()
    value = await flight.run("k", _constant(b"taken over"))

    assert value == b"taken over"
    assert 0.4 < time.monotonic() - started < 2


@pytest.fixture
async def unreachable() -> AsyncIterator[Redis]:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5, socket_timeout=0.5)
    yield client
    await client.aclose()


async def test_without_redis_the_cache_misses_and_keeps_nothing_and_flights_still_run(unreachable: Redis) -> None:
    store = RedisResultStore(unreachable, "scribe-test:")
    flight = RedisSingleFlight(unreachable, "scribe-test:", 1.0)
    started = time.monotonic()

    await store.put(answer("k"))
    await store.count_request("k")
    assert await store.get("k") is None
    assert await store.seconds_left("k") is None
    assert await store.most_requested(5) == []
    assert await flight.run("k", _constant(b"uncached")) == b"uncached"
    assert time.monotonic() - started < 3


def _constant(value: bytes) -> Callable[[], Any]:
    async def work() -> bytes:
        return value

    return work
