from __future__ import annotations

import pytest

from application.accounts.admin import ChangeAccount
from application.accounts.api_tokens import CreateApiToken, ListApiTokens, RevokeApiToken
from application.accounts.profile import UpdateProfile
from application.auth.authenticate import Authenticate
from application.auth.login import LoginUser
from application.auth.logout import LogoutUser
from application.auth.password import ChangePassword, RequestPasswordReset, ResetPassword
from application.auth.refresh import RefreshTokens
from application.auth.register import CreateAccount, RegisterUser
from application.auth.tokens import SessionTokens
from application.email import DeliverQueuedEmails
from tests.unit.fakes import World

STRONG = "violet kettle umbrella 42"


@pytest.fixture
def world() -> World:
    return World()


class UseCases:
    """Every use case wired to one in-memory world, the way the container wires them to real adapters."""

    def __init__(self, w: World) -> None:
        tokens = SessionTokens(w.sessions, w.issuer, w.policy)
        self.create = CreateAccount(w.users, w.hasher, w.clock)
        self.register = RegisterUser(self.create, tokens, w.uow, w.clock)
        self.login = LoginUser(w.users, w.hasher, w.attempts, tokens, w.uow, w.clock, w.policy)
        self.refresh = RefreshTokens(w.sessions, w.users, tokens, w.uow, w.clock)
        self.logout = LogoutUser(w.sessions, w.deny_list, w.uow, w.clock)
        self.authenticate = Authenticate(w.issuer, w.deny_list, w.users, w.cache, w.api_tokens, w.uow, w.clock)
        self.update_profile = UpdateProfile(w.users, w.cache, w.uow, w.clock)
        self.change_password = ChangePassword(w.users, w.sessions, w.hasher, tokens, w.cache, w.uow, w.clock)
        self.forgot = RequestPasswordReset(w.users, w.resets, w.outbox, w.attempts, w.uow, w.clock, w.policy)
        self.reset = ResetPassword(w.users, w.resets, w.sessions, w.hasher, w.cache, w.uow, w.clock)
        self.create_token = CreateApiToken(w.api_tokens, w.uow, w.clock)
        self.list_tokens = ListApiTokens(w.api_tokens)
        self.revoke_token = RevokeApiToken(w.api_tokens, w.uow, w.clock)
        self.change_account = ChangeAccount(w.users, w.sessions, w.cache, w.uow, w.clock)
        self.deliver = DeliverQueuedEmails(w.outbox, _Transport(), w.uow, w.clock)


class _Transport:
    def __init__(self) -> None:
        self.delivered: list[object] = []

    async def deliver(self, message: object) -> None:
        self.delivered.append(message)


@pytest.fixture
def uc(world: World) -> UseCases:
    return UseCases(world)
