from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from application.errors import ServiceBusy

# Beyond this many hashes waiting per slot, new requests are refused (503) instead of queueing for seconds.
_WAITING_PER_SLOT = 32
P = ParamSpec("P")
R = TypeVar("R")


class Argon2PasswordHasher:
    """argon2id in worker threads (the C code releases the GIL), at most `concurrency` at once, so a burst
    of logins queues instead of starving the event loop or exhausting memory, and a flood is refused."""

    def __init__(self, memory_kib: int, time_cost: int, concurrency: int) -> None:
        self._argon2 = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID)
        self._slots = asyncio.Semaphore(concurrency)
        self._max_waiting = concurrency * _WAITING_PER_SLOT
        self._waiting = 0
        self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self._run(self._verify, password_hash, password)

    async def _run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._waiting >= self._max_waiting:
            raise ServiceBusy(retry_after=1)
        self._waiting += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(work, *args, **kwargs)
        finally:
            self._waiting -= 1

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)
