from __future__ import annotations

import pytest

from application.accounts.admin import ChangeAccount, ChangeAccountAsAdmin, ListUsersAsAdmin
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
from application.auth.register import RegisterCommand, RegisterUser
from application.auth.revocations import AnnounceRevocations
from application.auth.tokens import TokenPair
from application.email import DeliverQueuedEmails
from tests.unit.container import UseCase, use_case_container
from tests.unit.fakes import World

STRONG = "violet kettle umbrella 42"


@pytest.fixture
def world() -> World:
    return World()


class UseCases:
    """The use cases of the production container, over one in-memory world."""

    _register = UseCase(RegisterUser)
    login = UseCase(LoginUser)
    refresh = UseCase(RefreshTokens)
    logout = UseCase(LogoutUser)
    authenticate = UseCase(Authenticate)
    profile = UseCase(GetProfile)
    update_profile = UseCase(UpdateProfile)
    change_password = UseCase(ChangePassword)
    admit_reset = UseCase(AdmitPasswordResetRequest)
    send_reset = UseCase(SendPasswordResetLink)
    reset = UseCase(ResetPassword)
    create_token = UseCase(CreateApiToken)
    list_tokens = UseCase(ListApiTokens)
    revoke_token = UseCase(RevokeApiToken)
    change_account = UseCase(ChangeAccount)
    change_account_as_admin = UseCase(ChangeAccountAsAdmin)
    list_users_as_admin = UseCase(ListUsersAsAdmin)
    announce = UseCase(AnnounceRevocations)
    deliver = UseCase(DeliverQueuedEmails)

    def __init__(self, world: World) -> None:
        self.container = use_case_container(world)

    async def register(self, cmd: RegisterCommand, client_ip: str = "10.0.0.1") -> TokenPair:
        return await self._register(cmd, client_ip)

    async def forgot(self, cmd: ForgotPasswordCommand) -> None:
        """What the API does: admit (throttle) now, prepare the link afterwards."""
        await self.admit_reset(cmd)
        await self.send_reset(cmd.email)


@pytest.fixture
def uc(world: World) -> UseCases:
    return UseCases(world)
