from __future__ import annotations

from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.revocations import revoke_sessions
from application.auth.tokens import fingerprint
from application.errors import PermissionDenied
from application.ports import Clock, RevocationOutbox, RevokedSessions, SessionRepository, UnitOfWork


class LogoutUser:
    """Ends the caller's session: its refresh tokens die and all its access tokens are refused at once."""

    raises = (PermissionDenied,)

    def __init__(
        self,
        sessions: SessionRepository,
        revoked: RevokedSessions,
        outbox: RevocationOutbox,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._sessions = sessions
        self._revoked = revoked
        self._outbox = outbox
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, principal: Principal, refresh_token: str | None = None) -> None:
        principal.require_session()
        assert principal.session_id is not None
        now = self._clock.now()
        ended = [principal.session_id]
        if refresh_token:
            # A client may hold a refresh token of another of its own sessions; end that one too.
            stored = await self._sessions.find_refresh_token(fingerprint(refresh_token))
            session = await self._sessions.get(stored.session_id) if stored else None
            if session is not None and session.user_id == principal.user.id:
                ended.append(session.id)
        until = now + self._policy.access_token_lifetime
        await revoke_sessions(self._sessions, self._outbox, self._uow, self._revoked, ended, now, until)
