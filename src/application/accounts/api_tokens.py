"""Personal API tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from application.auth.authenticate import Principal
from application.auth.tokens import fingerprint, new_secret
from application.errors import InvalidCursor, PermissionDenied
from application.pagination import Page, PageRequest
from application.ports import ApiTokenRepository, Clock, UnitOfWork, UserCache
from domain.api_tokens import API_TOKEN_PREFIX, ApiToken, ApiTokenNotFound, Scope, token_name
from domain.errors import InvalidField, InvalidInput, check_all

MAX_TOKEN_LIFETIME_DAYS = 3650


@dataclass(frozen=True, slots=True)
class CreateApiTokenCommand:
    name: str
    scopes: tuple[Scope, ...] = (Scope.READ, Scope.WRITE)
    expires_in_days: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedApiToken:
    token: ApiToken
    secret: str


class CreateApiToken:
    raises = (InvalidInput, PermissionDenied)

    def __init__(self, tokens: ApiTokenRepository, uow: UnitOfWork, clock: Clock) -> None:
        self._tokens = tokens
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, cmd: CreateApiTokenCommand) -> CreatedApiToken:
        principal.require_session()  # a leaked API token must not be able to mint more
        check_all(
            {
                "name": lambda: token_name(cmd.name),
                "scopes": lambda: _check_scopes(cmd.scopes),
                "expires_in_days": lambda: _check_lifetime(cmd.expires_in_days),
            }
        )
        now = self._clock.now()
        secret = API_TOKEN_PREFIX + new_secret()
        token = ApiToken(
            id=uuid.uuid4(),
            user_id=principal.user.id,
            name=token_name(cmd.name),
            token_hash=fingerprint(secret),
            hint=secret[: len(API_TOKEN_PREFIX) + 4],
            scopes=tuple(sorted(set(cmd.scopes))),
            created_at=now,
            expires_at=now + timedelta(days=cmd.expires_in_days) if cmd.expires_in_days else None,
        )
        await self._tokens.add(token)
        await self._uow.commit()
        return CreatedApiToken(token, secret)


class ListApiTokens:
    raises = (PermissionDenied, InvalidInput, InvalidCursor)

    def __init__(self, tokens: ApiTokenRepository) -> None:
        self._tokens = tokens

    async def __call__(self, principal: Principal, page: PageRequest) -> Page[ApiToken]:
        principal.require(Scope.READ)
        return await self._tokens.list_for_user(principal.user.id, page)


class RevokeApiToken:
    raises = (PermissionDenied, ApiTokenNotFound)

    def __init__(self, tokens: ApiTokenRepository, cache: UserCache, uow: UnitOfWork, clock: Clock) -> None:
        self._tokens = tokens
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, token_id: uuid.UUID) -> None:
        principal.require_session()
        token = await self._tokens.get_for_user(token_id, principal.user.id)
        if token is None:
            raise ApiTokenNotFound
        await self._tokens.update(token.revoked(self._clock.now()))
        await self._uow.commit()
        await self._cache.invalidate(principal.user.id)  # takes the token's cached copy, in every process


def _check_scopes(scopes: tuple[Scope, ...]) -> None:
    if not scopes:
        raise InvalidField("must name at least one scope")


def _check_lifetime(days: int | None) -> None:
    if days is not None and not 1 <= days <= MAX_TOKEN_LIFETIME_DAYS:
        raise InvalidField(f"must be between 1 and {MAX_TOKEN_LIFETIME_DAYS}")
