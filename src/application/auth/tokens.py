"""Opaque secrets (refresh, reset, API tokens) and starting a login session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from application.auth.policy import AuthPolicy
from application.ports import AccessTokenIssuer, SessionRepository
from domain.sessions import AuthSession, RefreshToken
from domain.users import User


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def fingerprint(secret: str) -> str:
    """What we store instead of a secret: its sha256. The secrets are random, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    device_token: str | None = None  # a login's answer: see `DeviceTokens`


class SessionTokens:
    """Issues the token pair for a session: a fresh refresh token in its family plus an access token."""

    def __init__(self, sessions: SessionRepository, issuer: AccessTokenIssuer, policy: AuthPolicy) -> None:
        self._sessions = sessions
        self._issuer = issuer
        self._policy = policy

    async def start(self, user: User, now: datetime) -> TokenPair:
        session = AuthSession.start(user.id, now, self._policy.session_max_age)
        await self._sessions.add(session)
        return await self.next_pair(session, user, now)

    async def next_pair(self, session: AuthSession, user: User, now: datetime) -> TokenPair:
        """The session's next pair: a new refresh token in its family (the presented one is spent by the caller)
        and a new access token."""
        refresh = new_secret()
        await self._sessions.add_refresh_token(
            RefreshToken.issue(session, fingerprint(refresh), now, self._policy.refresh_idle_lifetime)
        )
        access = self._issuer.issue(user.id, session.id, now)
        return TokenPair(access.token, refresh, int((access.expires_at - now).total_seconds()), user)
