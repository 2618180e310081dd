"""Closing an account: the user and all their data deleted at once."""

from __future__ import annotations

from application.auth.authenticate import Principal
from application.errors import PermissionDenied
from application.ports import UnitOfWork, UserCache, UserRepository
from domain.errors import InvalidInput, Problem


class DeleteAccount:
    """Needs a login session (an API token cannot close the account it belongs to) and an explicit confirmation."""

    raises = (PermissionDenied, InvalidInput)

    def __init__(self, users: UserRepository, cache: UserCache, uow: UnitOfWork) -> None:
        self._users = users
        self._cache = cache
        self._uow = uow

    async def __call__(self, principal: Principal, confirm: bool) -> None:
        principal.require_session()
        if not confirm:
            raise InvalidInput([Problem("confirm", "must be true to delete your account and all its data")])
        await self._users.delete(principal.user.id)
        await self._uow.commit()
        # Access tokens still in flight are then refused: authenticating them finds no user.
        await self._cache.invalidate(principal.user.id)
