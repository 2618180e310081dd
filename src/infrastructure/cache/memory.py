"""The result cache and single-flight inside one process: the embedded runtime's, and the first layer of the Redis
single-flight (one caller per process takes part across processes, the others wait on it here)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.processing.result_cache import POPULARITY_HOURS, StoredAnswer

_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    answer: StoredAnswer
    expires: float


class InMemoryResultStore:
    def __init__(
        self,
        max_entries: int = _MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._max = max_entries
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: dict[str, _Entry] = {}
        self._requests: dict[int, Counter[str]] = {}  # hour → requests per key

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires <= self._clock():
            del self._entries[key]
            return None
        return entry

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return entry.answer.value if entry else None

    async def put(self, answer: StoredAnswer) -> None:
        self._entries.pop(answer.key, None)  # re-inserted last: the oldest entries are evicted first
        if len(self._entries) >= self._max:
            now = self._clock()
            self._entries = {k: e for k, e in self._entries.items() if e.expires > now}
            while len(self._entries) >= self._max:
                del self._entries[next(iter(self._entries))]
        self._entries[answer.key] = _Entry(answer, self._clock() + answer.ttl_seconds)

    async def seconds_left(self, key: str) -> float | None:
        entry = self._live(key)
        return entry.expires - self._clock() if entry else None

    async def recipe(self, key: str) -> bytes | None:
        entry = self._live(key)
        return entry.answer.recipe if entry else None

    async def purge_video(self, video_id: str) -> int:
        return self._purge(lambda answer: answer.video_id == video_id)

    async def purge_user(self, user_id: uuid.UUID) -> int:
        return self._purge(lambda answer: answer.created_by == user_id)

    def _purge(self, matches: Callable[[StoredAnswer], bool]) -> int:
        now = self._clock()
        purged = {key: entry for key, entry in self._entries.items() if matches(entry.answer)}
        for key in purged:
            del self._entries[key]
        return sum(entry.expires > now for entry in purged.values())

    async def count_request(self, key: str) -> None:
        hour = int(self._wall_clock() // 3600)
        if hour not in self._requests:
            self._requests = {h: c for h, c in self._requests.items() if h > hour - POPULARITY_HOURS}
            self._requests[hour] = Counter()
        self._requests[hour][key] += 1

    async def most_requested(self, limit: int) -> list[str]:
        since = int(self._wall_clock() // 3600) - POPULARITY_HOURS
        total: Counter[str] = Counter()
        for hour, counts in self._requests.items():
            if hour > since:
                total.update(counts)
        return [key for key, _ in total.most_common(limit)]


class InProcessSingleFlight:
    """Concurrent callers with the same key share one run of `work`: the first runs it, the others await its
    future. If that run fails, they get its error; if it was cancelled (its client went away), one of them runs
    `work` itself."""

    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Future[bytes]] = {}

    async def run(self, key: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, work)
            try:
                return await asyncio.shield(flight)
            except asyncio.CancelledError:
                if flight.cancelled() and not _cancelling():
                    continue  # the leader was cancelled, not us: take over
                raise

    async def _lead(self, key: str, work: Callable[[], Awaitable[bytes]]) -> bytes:
        flight: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        flight.add_done_callback(_retrieved)
        self._flights[key] = flight
        try:
            value = await work()
        except asyncio.CancelledError:
            flight.cancel()
            raise
        except BaseException as error:
            flight.set_exception(error)
            raise
        else:
            flight.set_result(value)
            return value
        finally:
            del self._flights[key]


def _retrieved(flight: asyncio.Future[bytes]) -> None:
    """Marks a failure as seen: with no waiter nobody else reads it, and asyncio would log it as lost."""
    if not flight.cancelled():
        flight.exception()


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
