from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage as MimeMessage

import structlog

from application.ports import EmailMessage

log = structlog.get_logger("scribe.email")


class LogEmailTransport:
    """Development only (production refuses it): the message, reset link included, goes to the log."""

    async def deliver(self, message: EmailMessage) -> None:
        log.info("email", to=message.to, subject=message.subject, body=message.body)


class SmtpEmailTransport:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout: float = 15.0,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password, self._starttls = username, password, starttls
        self._timeout = timeout

    async def deliver(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        mime = MimeMessage()
        mime["From"], mime["To"], mime["Subject"] = self._sender, message.to, message.subject
        mime.set_content(message.body)
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls()
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(mime)
