"""Login sessions: a family of rotating refresh tokens with an idle and an absolute lifetime."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.errors import DomainError


class SessionInvalid(DomainError):
    """The refresh token is unknown, expired, revoked or was already used."""

    def __init__(self, reason: str) -> None:
        super().__init__("The session is no longer valid; log in again")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AuthSession:
    """One login. Every refresh token it ever had belongs to it (a token family)."""

    id: uuid.UUID
    user_id: uuid.UUID
    created_at: datetime
    expires_at: datetime  # absolute: no refresh extends a session past this
    revoked_at: datetime | None = None

    @classmethod
    def start(cls, user_id: uuid.UUID, now: datetime, max_age: timedelta) -> AuthSession:
        return cls(id=uuid.uuid4(), user_id=user_id, created_at=now, expires_at=now + max_age)

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoked(self, now: datetime) -> AuthSession:
        return replace(self, revoked_at=self.revoked_at or now)


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A stored refresh token (only its hash). Single use: `used_at` is set when it is rotated."""

    id: uuid.UUID
    session_id: uuid.UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def issue(cls, session: AuthSession, token_hash: str, now: datetime, idle_lifetime: timedelta) -> RefreshToken:
        return cls(
            id=uuid.uuid4(),
            session_id=session.id,
            token_hash=token_hash,
            created_at=now,
            expires_at=min(now + idle_lifetime, session.expires_at),
        )
