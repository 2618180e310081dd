"""What administrators do to accounts: list, create, change tier or role, disable and enable.

`scribe users ...` runs the plain use cases (whoever runs the CLI already holds the database); the API runs
the `...AsAdmin` forms, which first check that the caller is an administrator with the right scope."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from application.auth.authenticate import Principal
from application.auth.register import CreateAccount, RegisterCommand
from application.errors import InvalidCursor, NotFound, PermissionDenied
from application.limits import RefusalLog
from application.pagination import Page, PageRequest
from application.ports import ApiTokenRepository, Clock, SessionRepository, UnitOfWork, UserCache, UserRepository
from domain.api_tokens import Scope
from domain.errors import InvalidInput
from domain.users import Email, Role, Tier, User


class ListUsers:
    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(self, page: PageRequest) -> Page[User]:
        return await self._users.list(page)


@dataclass(frozen=True, slots=True)
class AccountChanges:
    tier: Tier | None = None
    role: Role | None = None
    disabled: bool | None = None


class ChangeAccount:
    """Disabling an account also ends its sessions and revokes its API tokens, for good: re-enabling it
    brings neither back. Its access tokens stop working at once in this process and within the user cache's
    lifetime in others."""

    def __init__(
        self,
        users: UserRepository,
        sessions: SessionRepository,
        api_tokens: ApiTokenRepository,
        cache: UserCache,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._api_tokens = api_tokens
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def __call__(self, user_ref: uuid.UUID | str, changes: AccountChanges) -> User:
        user = await self._users.lock(await self._user_id(user_ref))
        if user is None:
            raise NotFound("User")
        now = self._clock.now()
        updates: dict[str, object] = {k: v for k, v in asdict(changes).items() if v is not None}
        if changes.disabled:
            # Re-enabling later must not bring the old access tokens back.
            updates["tokens_valid_after"] = now
        if updates:
            user = user.with_changes(now, **updates)
            await self._users.update(user)
        if changes.disabled:
            await self._sessions.revoke_all_for_user(user.id, now)
            await self._api_tokens.revoke_all_for_user(user.id, now)
        await self._uow.commit()
        await self._cache.invalidate(user.id)
        return user

    async def _user_id(self, user_ref: uuid.UUID | str) -> uuid.UUID:
        if isinstance(user_ref, uuid.UUID):
            return user_ref
        user = await self._users.get_by_email(Email.parse(user_ref).value)
        if user is None:
            raise NotFound("User")
        return user.id


class ListUsersAsAdmin:
    raises = (PermissionDenied, InvalidInput, InvalidCursor)

    def __init__(self, list_users: ListUsers) -> None:
        self._list_users = list_users

    async def __call__(self, principal: Principal, page: PageRequest) -> Page[User]:
        principal.require_admin(Scope.READ)
        return await self._list_users(page)


class ChangeAccountAsAdmin:
    raises = (PermissionDenied, NotFound)

    def __init__(self, change: ChangeAccount) -> None:
        self._change = change

    async def __call__(self, principal: Principal, user_id: uuid.UUID, changes: AccountChanges) -> User:
        principal.require_admin(Scope.WRITE)
        principal.require(Scope.READ)  # the answer is the account's record, which only `read` may see
        return await self._change(user_id, changes)


class CreateUserAsAdmin:
    """`scribe users create`: the same account rules as self-registration, plus a chosen role and tier."""

    def __init__(self, create: CreateAccount, users: UserRepository, uow: UnitOfWork, clock: Clock) -> None:
        self._create = create
        self._users = users
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: RegisterCommand, tier: Tier = Tier.FREE) -> User:
        user = await self._create(cmd)
        if tier is not user.tier:
            user = user.with_changes(self._clock.now(), tier=tier)
            await self._users.update(user)
        await self._uow.commit()
        return user


@dataclass(frozen=True, slots=True)
class LimitedUser:
    user_id: uuid.UUID
    email: str | None  # None: the account was deleted since
    refusals: int


@dataclass(frozen=True, slots=True)
class RefusalReport:
    hours: int
    by_tier: Mapping[str, Mapping[str, int]]  # tier → {"rate_limited": n, "quota_exceeded": m}
    top_users: list[LimitedUser]


class ReportRefusalsAsAdmin:
    """`GET /api/v1/admin/rate-limits`: who was refused (429) lately, by tier, and the users refused most."""

    raises = (PermissionDenied,)

    def __init__(self, refusals: RefusalLog, users: UserRepository) -> None:
        self._refusals = refusals
        self._users = users

    async def __call__(self, principal: Principal, hours: int, top: int) -> RefusalReport:
        principal.require_admin(Scope.READ)
        recent = await self._refusals.recent(hours, top)
        limited = []
        for user_id, count in recent.top_users:
            user = await self._users.get(user_id)
            limited.append(LimitedUser(user_id, user.email if user else None, count))
        return RefusalReport(hours, recent.by_tier, limited)
