"""Telling every API process about revoked sessions, durably: a revocation is committed together with its
outbox row, announced at once when possible, and announced by this relay otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from application.ports import Clock, RevocationOutbox, RevokedSessions, SessionRepository, UnitOfWork

BATCH_SIZE = 100
LEASE = timedelta(seconds=30)  # far longer than one announcement takes
MAX_RETRY_DELAY = timedelta(
    seconds=5
)  # an announcement is one Redis PUBLISH: retry soon, but spare a Redis that is down


def retry_delay(failures: int) -> timedelta:
    """Back-off after the n-th failed announcement: 1, 2, 4, then every 5 seconds."""
    return min(timedelta(seconds=2 ** (failures - 1)), MAX_RETRY_DELAY)


async def revoke_sessions(
    sessions: SessionRepository,
    outbox: RevocationOutbox,
    uow: UnitOfWork,
    revoked: RevokedSessions,
    session_ids: Sequence[uuid.UUID],
    now: datetime,
    until: datetime,
) -> None:
    """Ends the sessions in the database and queues their announcement in the same transaction, then
    announces them; an announcement that fails now is left to AnnounceRevocations."""
    for session_id in session_ids:
        await sessions.revoke(session_id, now)
        await outbox.enqueue(session_id, until, now)
    await uow.commit()
    for session_id in session_ids:
        await revoked.revoke(session_id, until)


class AnnounceRevocations:
    """The relay: announces what the outbox holds, and forgets each revocation once announced."""

    def __init__(self, outbox: RevocationOutbox, revoked: RevokedSessions, uow: UnitOfWork, clock: Clock) -> None:
        self._outbox = outbox
        self._revoked = revoked
        self._uow = uow
        self._clock = clock

    async def __call__(self) -> int:
        claimed = await self._outbox.claim(BATCH_SIZE, self._clock.now(), LEASE)
        await self._uow.commit()  # the lease must be visible to other processes before we announce
        announced = 0
        for pending in claimed:
            if await self._revoked.revoke(pending.session_id, pending.until):
                await self._outbox.announced(pending.id)
                announced += 1
            else:
                await self._outbox.retry_later(pending.id, self._clock.now() + retry_delay(pending.attempts + 1))
        await self._uow.commit()
        return announced
