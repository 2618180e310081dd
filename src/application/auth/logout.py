from __future__ import annotations

from application.auth.authenticate import Principal
from application.auth.tokens import fingerprint
from application.ports import Clock, SessionRepository, TokenDenyList, UnitOfWork


class LogoutUser:
    """Ends the caller's session: its refresh tokens die and the access token is refused at once."""

    def __init__(self, sessions: SessionRepository, deny_list: TokenDenyList, uow: UnitOfWork, clock: Clock) -> None:
        self._sessions = sessions
        self._deny_list = deny_list
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, refresh_token: str | None = None) -> None:
        principal.require_session()
        now = self._clock.now()
        assert principal.session_id is not None
        assert principal.jti is not None
        assert principal.token_expires_at is not None
        await self._sessions.revoke(principal.session_id, now)
        if refresh_token:
            # A client may hold a refresh token of another of its own sessions; end that one too.
            stored = await self._sessions.find_refresh_token(fingerprint(refresh_token))
            session = await self._sessions.get(stored.session_id) if stored else None
            if session is not None and session.user_id == principal.user.id:
                await self._sessions.revoke(session.id, now)
        await self._uow.commit()
        await self._deny_list.deny(principal.jti, principal.token_expires_at)
