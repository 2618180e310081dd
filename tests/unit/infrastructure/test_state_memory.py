from __future__ import annotations

from datetime import UTC, datetime

from domain.users import Email, User
from infrastructure.state.memory import InMemoryAttemptCounter, InMemoryUserCache


async def test_a_copy_read_before_an_invalidation_is_not_cached() -> None:
    cache = InMemoryUserCache(ttl_seconds=60)
    user = User.register(Email("ada@example.com"), "hash", now=datetime.now(UTC))
    mark = cache.mark()  # an authentication starts reading the user...
    await cache.invalidate(user.id)  # ...an admin disables them meanwhile...
    cache.put(user, mark)  # ...the old copy arrives
    assert cache.get(user.id) is None
    cache.put(user, cache.mark())
    assert cache.get(user.id) == user


async def test_attempt_counts_release_and_reset() -> None:
    counter = InMemoryAttemptCounter()
    assert (await counter.increment("k", 60))[0] == 1
    assert (await counter.increment("k", 60))[0] == 2
    await counter.release("k")
    assert (await counter.increment("k", 60))[0] == 2
    await counter.reset("k")
    await counter.release("k")  # never below zero
    assert (await counter.increment("k", 60))[0] == 1
