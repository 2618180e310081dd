from __future__ import annotations

from application.ports import Clock, EmailOutbox, EmailTransport, UnitOfWork

BATCH_SIZE = 50


class DeliverQueuedEmails:
    """Sends what the outbox holds. A failed message stays queued with its error and is tried again."""

    def __init__(self, outbox: EmailOutbox, transport: EmailTransport, uow: UnitOfWork, clock: Clock) -> None:
        self._outbox = outbox
        self._transport = transport
        self._uow = uow
        self._clock = clock

    async def __call__(self) -> int:
        sent = 0
        for queued in await self._outbox.pending(BATCH_SIZE, self._clock.now()):
            try:
                await self._transport.deliver(queued.message)
            except OSError as error:
                await self._outbox.mark_failed(queued.id, type(error).__name__, self._clock.now())
            else:
                await self._outbox.mark_sent(queued.id, self._clock.now())
                sent += 1
            await self._uow.commit()
        return sent
