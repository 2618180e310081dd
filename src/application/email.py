from __future__ import annotations

from datetime import timedelta

from application.ports import Clock, EmailOutbox, EmailTransport, UnitOfWork

BATCH_SIZE = 50
LEASE = timedelta(minutes=2)  # longer than one SMTP delivery can take; each message is leased on its own
MAX_ATTEMPTS = 8  # a message that failed this often is given up on


def retry_delay(failures: int) -> timedelta:
    """Back-off after the n-th failed delivery: 1, 2, 4 ... minutes."""
    return timedelta(minutes=2 ** (failures - 1))


class DeliverQueuedEmails:
    """Sends what the outbox holds, each message once however many processes run this. A failed message
    stays queued with its error and is tried again later, less and less often, until MAX_ATTEMPTS."""

    def __init__(self, outbox: EmailOutbox, transport: EmailTransport, uow: UnitOfWork, clock: Clock) -> None:
        self._outbox = outbox
        self._transport = transport
        self._uow = uow
        self._clock = clock

    async def __call__(self) -> int:
        sent = 0
        for _ in range(BATCH_SIZE):
            claimed = await self._outbox.claim(1, self._clock.now(), LEASE)
            await self._uow.commit()  # the lease must be visible to other processes before we send
            if not claimed:
                break
            (queued,) = claimed
            try:
                await self._transport.deliver(queued.message)
            except OSError as error:
                failures = queued.attempts + 1
                retry_at = self._clock.now() + retry_delay(failures) if failures < MAX_ATTEMPTS else None
                await self._outbox.mark_failed(queued.id, type(error).__name__, retry_at)
            else:
                await self._outbox.mark_sent(queued.id, self._clock.now())
                sent += 1
            await self._uow.commit()
        return sent
