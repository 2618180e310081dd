"""In-process state for the embedded (single-process) runtime. Production uses the Redis twins."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from domain.users import User

_MAX_ENTRIES = 100_000


class InMemoryTokenDenyList:
    def __init__(self) -> None:
        self._denied: dict[str, float] = {}

    async def deny(self, jti: str, until: datetime) -> None:
        self._purge()
        self._denied[jti] = until.timestamp()

    async def is_denied(self, jti: str) -> bool:
        until = self._denied.get(jti)
        return until is not None and until > time.time()

    def _purge(self) -> None:
        if len(self._denied) >= _MAX_ENTRIES:
            now = time.time()
            self._denied = {k: v for k, v in self._denied.items() if v > now}


class InMemoryAttemptCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def peek(self, key: str) -> tuple[int, int]:
        count, resets_at = self._windows.get(key, (0, 0.0))
        remaining = resets_at - time.monotonic()
        return (count, int(remaining) + 1) if remaining > 0 else (0, 0)

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        count, resets_in = await self.peek(key)
        if count == 0:
            if len(self._windows) >= _MAX_ENTRIES:
                now = time.monotonic()
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            resets_at = time.monotonic() + window_seconds
            resets_in = window_seconds
        else:
            resets_at = self._windows[key][1]
        self._windows[key] = (count + 1, resets_at)
        return count + 1, resets_in

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


class InMemoryUserCache:
    """Short-lived by design (SPEC §2): another process's change shows here within `ttl_seconds`."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[uuid.UUID, tuple[User, float]] = {}

    def get(self, user_id: uuid.UUID) -> User | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, user: User) -> None:
        if self._ttl <= 0:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[user.id] = (user, time.monotonic() + self._ttl)

    def invalidate(self, user_id: uuid.UUID) -> None:
        self._entries.pop(user_id, None)
