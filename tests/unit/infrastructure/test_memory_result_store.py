"""The in-process result store's own limits: a bounded number of entries, and a 24-hour popularity window."""

from __future__ import annotations

from application.processing.result_cache import StoredAnswer
from infrastructure.cache.memory import InMemoryResultStore


def answer(key: str) -> StoredAnswer:
    return StoredAnswer(key, key.encode(), 60, None, None, None)


async def test_when_full_the_oldest_entry_makes_room() -> None:
    store = InMemoryResultStore(max_entries=2)
    await store.put(answer("first"))
    await store.put(answer("second"))
    await store.put(answer("first"))  # stored again: now the newest
    await store.put(answer("third"))
    assert [await store.get(k) for k in ("first", "second", "third")] == [b"first", None, b"third"]


async def test_requests_older_than_a_day_no_longer_count() -> None:
    now = [1_000_000.0]
    store = InMemoryResultStore(wall_clock=lambda: now[0])
    for _ in range(3):
        await store.count_request("yesterday")
    now[0] += 23 * 3600
    await store.count_request("today")
    assert await store.most_requested(5) == ["yesterday", "today"]
    now[0] += 2 * 3600
    assert await store.most_requested(5) == ["today"]
