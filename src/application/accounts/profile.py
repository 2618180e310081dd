from __future__ import annotations

from dataclasses import dataclass

from application.auth.authenticate import Principal
from application.errors import NotFound, PermissionDenied
from application.ports import Clock, UnitOfWork, UserCache, UserRepository
from application.processing.catalog import PROVIDER_NAMES
from domain.api_tokens import Scope
from domain.errors import InvalidField, InvalidInput, check_all
from domain.users import User, display_name, language_code


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Only the fields present are changed; `display_name=""` is refused, not treated as a removal."""

    display_name: str | None = None
    preferred_language: str | None = None
    clear_display_name: bool = False
    preferred_provider: str | None = None
    clear_preferred_provider: bool = False


def provider_name(name: str) -> str:
    if name not in PROVIDER_NAMES:
        raise InvalidField(f"must be one of: {', '.join(PROVIDER_NAMES)}")
    return name


class UpdateProfile:
    raises = (InvalidInput, PermissionDenied, NotFound)

    def __init__(self, users: UserRepository, cache: UserCache, uow: UnitOfWork, clock: Clock) -> None:
        self._users = users
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, changes: ProfileChanges) -> User:
        principal.require(Scope.WRITE)
        principal.require(Scope.READ)  # the answer is the whole profile: a write-only token may not see it
        parsed = check_all(
            {
                "display_name": lambda: None if changes.display_name is None else display_name(changes.display_name),
                "preferred_language": lambda: (
                    None if changes.preferred_language is None else language_code(changes.preferred_language)
                ),
                "preferred_provider": lambda: (
                    changes.preferred_provider is None or provider_name(changes.preferred_provider)
                ),
            }
        )
        updates: dict[str, object] = {}
        if changes.clear_display_name:
            updates["display_name"] = None
        elif changes.display_name is not None:
            updates["display_name"] = parsed["display_name"]
        if changes.clear_preferred_provider:
            updates["preferred_provider"] = None
        elif changes.preferred_provider is not None:
            updates["preferred_provider"] = changes.preferred_provider
        if changes.preferred_language is not None:
            updates["preferred_language"] = parsed["preferred_language"]
        user = await self._users.lock(principal.user.id)
        if user is None:
            raise NotFound("User")
        if not updates:
            return user
        user = user.with_changes(self._clock.now(), **updates)
        await self._users.update(user)
        await self._uow.commit()
        await self._cache.invalidate(user.id)
        return user
