from __future__ import annotations

from application.auth.policy import AuthPolicy
from application.auth.revocations import revoke_sessions
from application.auth.tokens import SessionTokens, TokenPair, fingerprint
from application.ports import (
    Clock,
    RevocationOutbox,
    RevokedSessions,
    SessionRepository,
    UnitOfWork,
    UserRepository,
)
from domain.sessions import SessionInvalid


class RefreshTokens:
    """Trades a refresh token for a new pair. Each refresh token works once; a second use means it
    was stolen, so the whole session (token family) ends, its access tokens included."""

    raises = (SessionInvalid,)

    def __init__(
        self,
        sessions: SessionRepository,
        users: UserRepository,
        revoked: RevokedSessions,
        outbox: RevocationOutbox,
        tokens: SessionTokens,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._sessions = sessions
        self._users = users
        self._revoked = revoked
        self._outbox = outbox
        self._tokens = tokens
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, refresh_token: str) -> TokenPair:
        now = self._clock.now()
        stored = await self._sessions.find_refresh_token(fingerprint(refresh_token))
        if stored is None:
            raise SessionInvalid("unknown_refresh_token")
        session = await self._sessions.get(stored.session_id)
        if session is None or not session.is_active(now):
            raise SessionInvalid("session_ended")
        if stored.used_at is not None or not await self._sessions.mark_refresh_token_used(stored.id, now):
            # Committed before the request fails: the revocation must stick.
            until = now + self._policy.access_token_lifetime
            await revoke_sessions(self._sessions, self._outbox, self._uow, self._revoked, [session.id], now, until)
            raise SessionInvalid("refresh_token_reused")
        if now >= stored.expires_at:
            raise SessionInvalid("refresh_token_expired")
        user = await self._users.get(session.user_id)
        if user is None or user.disabled or not user.accepts_token_issued_at(stored.created_at):
            raise SessionInvalid("account_unavailable")
        pair = await self._tokens.next_pair(session, user, now)
        await self._uow.commit()
        return pair
