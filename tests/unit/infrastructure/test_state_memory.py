from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.api_tokens import ApiToken, Scope
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


async def test_invalidating_a_user_drops_their_tokens_and_the_note_that_they_have_no_keys() -> None:
    cache = InMemoryUserCache(ttl_seconds=60)
    now = datetime.now(UTC)
    ada, bob = (User.register(Email(f"{name}@example.com"), "hash", now=now) for name in ("ada", "bob"))
    tokens = {
        u.id: ApiToken(uuid.uuid4(), u.id, "ci", f"hash-{u.id}", "scribe_ab", (Scope.READ,), now, None)
        for u in (ada, bob)
    }
    for user in (ada, bob):
        cache.put_api_token(tokens[user.id], cache.mark())
        cache.put_no_provider_keys(user.id, cache.mark())

    await cache.invalidate(ada.id)

    assert cache.api_token(f"hash-{ada.id}") is None
    assert not cache.has_no_provider_keys(ada.id)
    assert cache.api_token(f"hash-{bob.id}") == tokens[bob.id]
    assert cache.has_no_provider_keys(bob.id)
    mark = cache.mark()  # a read of ada's token starts...
    await cache.invalidate(ada.id)  # ...and she revokes it meanwhile
    cache.put_api_token(tokens[ada.id], mark)
    assert cache.api_token(f"hash-{ada.id}") is None
