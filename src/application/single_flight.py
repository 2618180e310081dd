"""Concurrent loads of one key share one load."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight:
    def __init__(self) -> None:
        self._pending: dict[tuple[Hashable, int], asyncio.Future[Any]] = {}

    async def once(self, key: K, mark: int, load: Callable[[K, int], Awaitable[V]]) -> V:
        """`load(key, mark)`, or the result of the one already running for the same key and cache mark. The
        mark is part of the key: a caller that comes after an invalidation never gets a value read before it."""
        flight = (key, mark)
        future = self._pending.get(flight)
        if future is None:
            future = asyncio.ensure_future(load(key, mark))
            self._pending[flight] = future
            future.add_done_callback(lambda done: self._landed(flight, done))
        # Shielded: a caller that gives up (its client went away) does not cancel the others' load.
        result: V = await asyncio.shield(future)
        return result

    def _landed(self, flight: tuple[Hashable, int], done: asyncio.Future[Any]) -> None:
        del self._pending[flight]
        if not done.cancelled():
            done.exception()  # retrieved, even when every caller had given up: no "never retrieved" warning
