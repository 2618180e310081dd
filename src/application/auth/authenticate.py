from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.auth.tokens import fingerprint
from application.errors import AuthenticationFailed, PermissionDenied
from application.ports import AccessTokenIssuer, AccountReader, Clock, RevokedSessions, UserCache
from application.single_flight import SingleFlight
from domain.api_tokens import API_TOKEN_PREFIX, ApiToken, Scope
from domain.users import User


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and with what: a login session (JWT) or a personal API token."""

    user: User
    scopes: frozenset[Scope]
    session_id: uuid.UUID | None = None

    @property
    def is_session(self) -> bool:
        return self.session_id is not None

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"This token lacks the '{scope}' scope")

    def require_session(self) -> None:
        if not self.is_session:
            raise PermissionDenied("This action needs a login session, not an API token")

    def require_admin(self, scope: Scope) -> None:
        if not self.user.is_admin:
            raise PermissionDenied
        self.require(scope)


ALL_SCOPES = frozenset(Scope)


class GetProfile:
    raises = (PermissionDenied,)

    async def __call__(self, principal: Principal) -> User:
        principal.require(Scope.READ)
        return principal.user


class Authenticate:
    """Bearer credential → Principal. Role, tier and disabled come from storage (via a short-lived cache),
    never from the token."""

    raises = (AuthenticationFailed,)

    def __init__(
        self,
        issuer: AccessTokenIssuer,
        revoked: RevokedSessions,
        accounts: AccountReader,
        cache: UserCache,
        clock: Clock,
    ) -> None:
        self._issuer = issuer
        self._revoked = revoked
        self._accounts = accounts
        self._cache = cache
        self._clock = clock
        # When a busy user's copy expires, the requests in flight wait for one read rather than each taking a
        # database connection: that stampede every `user_cache_seconds` was the p99 tail of authenticated reads.
        self._reads = SingleFlight()

    async def __call__(self, credential: str) -> Principal:
        if credential.startswith(API_TOKEN_PREFIX):
            return await self._by_api_token(credential)
        claims = self._issuer.decode(credential)
        if await self._revoked.is_revoked(claims.session_id):
            raise AuthenticationFailed("session_revoked")
        user = await self._user(claims.user_id)
        if not user.accepts_token_issued_at(claims.issued_at):
            raise AuthenticationFailed("token_predates_password_change")
        return Principal(user, ALL_SCOPES, claims.session_id)

    async def _by_api_token(self, credential: str) -> Principal:
        now = self._clock.now()
        token_hash = fingerprint(credential)
        mark = self._cache.mark()  # before the copy is taken: a revocation from here on keeps it out of the cache
        token = self._cache.api_token(token_hash)
        if token is None:
            token = await self._reads.once(("token", token_hash), mark, self._read_token)
        if token is None or not token.is_usable(now):
            raise AuthenticationFailed("api_token_invalid")
        user = await self._user(token.user_id)
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            # Coarse on purpose: one write a minute per token, not one per request.
            await self._accounts.record_api_token_use(token.id, now)
            self._cache.put_api_token(token.touched(now), mark)
        return Principal(user, frozenset(token.scopes))

    async def _user(self, user_id: uuid.UUID) -> User:
        user = self._cache.get(user_id)
        if user is None:
            user = await self._reads.once(("user", user_id), self._cache.mark(), self._read_user)
        if user.disabled:
            raise AuthenticationFailed("account_disabled")
        return user

    async def _read_user(self, key: tuple[str, uuid.UUID], mark: int) -> User:
        user = await self._accounts.user(key[1])
        if user is None:
            raise AuthenticationFailed("user_gone")
        self._cache.put(user, mark)
        return user

    async def _read_token(self, key: tuple[str, str], mark: int) -> ApiToken | None:
        token = await self._accounts.api_token(key[1])
        if token is not None:
            self._cache.put_api_token(token, mark)
        return token
