from __future__ import annotations

import pytest

from application.access import Throttle
from application.accounts.admin import ChangeAccount, ChangeAccountAsAdmin, ListUsers, ListUsersAsAdmin
from application.accounts.api_tokens import CreateApiToken, ListApiTokens, RevokeApiToken
from application.accounts.profile import UpdateProfile
from application.auth.authenticate import Authenticate, GetProfile
from application.auth.login import LoginUser
from application.auth.logout import LogoutUser
from application.auth.password import (
    AdmitPasswordResetRequest,
    ChangePassword,
    ForgotPasswordCommand,
    ResetPassword,
    SendPasswordResetLink,
)
from application.auth.refresh import RefreshTokens
from application.auth.register import CreateAccount, RegisterCommand, RegisterUser
from application.auth.revocations import AnnounceRevocations
from application.auth.tokens import SessionTokens, TokenPair
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
        throttle = Throttle(w.attempts)
        self.create = CreateAccount(w.users, w.hasher, w.clock)
        self._register = RegisterUser(self.create, throttle, tokens, w.uow, w.clock, w.policy)
        self.login = LoginUser(w.users, w.hasher, throttle, tokens, w.uow, w.clock, w.policy, w.devices)
        self.refresh = RefreshTokens(w.sessions, w.users, w.revoked, w.revocations, tokens, w.uow, w.clock, w.policy)
        self.logout = LogoutUser(w.sessions, w.revoked, w.revocations, w.uow, w.clock, w.policy)
        self.authenticate = Authenticate(w.issuer, w.revoked, w.accounts, w.cache, w.clock)
        self.profile = GetProfile()
        self.update_profile = UpdateProfile(w.users, w.cache, w.uow, w.clock)
        self.change_password = ChangePassword(
            w.users, w.sessions, w.hasher, throttle, tokens, w.cache, w.uow, w.clock, w.policy
        )
        self.admit_reset = AdmitPasswordResetRequest(throttle, w.policy)
        self.send_reset = SendPasswordResetLink(w.users, w.resets, w.outbox, throttle, w.uow, w.clock, w.policy)
        self.reset = ResetPassword(w.users, w.resets, w.sessions, w.api_tokens, w.hasher, w.cache, w.uow, w.clock)
        self.create_token = CreateApiToken(w.api_tokens, w.uow, w.clock)
        self.list_tokens = ListApiTokens(w.api_tokens)
        self.revoke_token = RevokeApiToken(w.api_tokens, w.uow, w.clock)
        self.change_account = ChangeAccount(w.users, w.sessions, w.api_tokens, w.cache, w.uow, w.clock)
        self.change_account_as_admin = ChangeAccountAsAdmin(self.change_account)
        self.list_users_as_admin = ListUsersAsAdmin(ListUsers(w.users))
        self.announce = AnnounceRevocations(w.revocations, w.revoked, w.uow, w.clock)
        self.deliver = DeliverQueuedEmails(w.outbox, _Transport(), w.uow, w.clock)

    async def register(self, cmd: RegisterCommand, client_ip: str = "10.0.0.1") -> TokenPair:
        return await self._register(cmd, client_ip)

    async def forgot(self, cmd: ForgotPasswordCommand) -> None:
        """What the API does: admit (throttle) now, prepare the link afterwards."""
        await self.admit_reset(cmd)
        await self.send_reset(cmd.email)


class _Transport:
    def __init__(self) -> None:
        self.delivered: list[object] = []

    async def deliver(self, message: object) -> None:
        self.delivered.append(message)


@pytest.fixture
def uc(world: World) -> UseCases:
    return UseCases(world)
