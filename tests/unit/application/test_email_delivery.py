"""The delivery use case decides when a failed message is tried again and when it is given up on."""

from __future__ import annotations

from datetime import timedelta

from application.email import MAX_ATTEMPTS, DeliverQueuedEmails
from application.ports import EmailMessage
from tests.unit.fakes import T0, FakeClock, FakeUnitOfWork, InMemoryOutbox


class _RefusingTransport:
    async def deliver(self, message: EmailMessage) -> None:
        raise ConnectionRefusedError


async def test_a_failing_message_is_retried_less_and_less_often_then_given_up() -> None:
    outbox, clock = InMemoryOutbox(), FakeClock()
    deliver = DeliverQueuedEmails(outbox, _RefusingTransport(), FakeUnitOfWork(), clock)
    await outbox.enqueue(EmailMessage("ada@example.com", "Reset", "link"), clock.now())
    for _ in range(MAX_ATTEMPTS + 2):
        assert await deliver() == 0
    delays = [retry_at - T0 if retry_at else None for retry_at in outbox.retries]
    assert delays == [timedelta(minutes=2**n) for n in range(MAX_ATTEMPTS - 1)] + [None]
    assert outbox.queued == {}  # given up: not tried again
