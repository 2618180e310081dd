"""In-process state for the embedded (single-process) runtime. Production uses the Redis twins."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from domain.users import User

_MAX_ENTRIES = 100_000


class InMemoryRevokedSessions:
    def __init__(self) -> None:
        self._until: dict[uuid.UUID, float] = {}

    async def revoke(self, session_id: uuid.UUID, until: datetime) -> None:
        if len(self._until) >= _MAX_ENTRIES:
            now = time.time()
            self._until = {k: v for k, v in self._until.items() if v > now}
        self._until[session_id] = until.timestamp()

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        until = self._until.get(session_id)
        return until is not None and until > time.time()


class InMemoryAttemptCounter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        count, resets_at = self._windows.get(key, (0, 0.0))
        if resets_at <= now:
            if len(self._windows) >= _MAX_ENTRIES:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            count, resets_at = 0, now + window_seconds
        self._windows[key] = (count + 1, resets_at)
        return count + 1, int(resets_at - now) + 1

    async def release(self, key: str) -> None:
        count, resets_at = self._windows.get(key, (0, 0.0))
        if count > 0:
            self._windows[key] = (count - 1, resets_at)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)


class InMemoryUserCache:
    """Short-lived by design (SPEC §2): another process's change shows here within `ttl_seconds`."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[uuid.UUID, tuple[User, float]] = {}
        self._invalidations = 0

    def get(self, user_id: uuid.UUID) -> User | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def mark(self) -> int:
        return self._invalidations

    def put(self, user: User, mark: int) -> None:
        if self._ttl <= 0 or mark != self._invalidations:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[user.id] = (user, time.monotonic() + self._ttl)

    async def invalidate(self, user_id: uuid.UUID) -> None:
        self._invalidations += 1
        self._entries.pop(user_id, None)

    def clear(self) -> None:
        self._invalidations += 1
        self._entries.clear()
