"""`/api/v1/auth/*`, also mounted at the prototype's `/api/auth/*`."""

from __future__ import annotations

from typing import Any

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody
from msgspec import UNSET

from application.accounts.profile import ProfileChanges, UpdateProfile
from application.auth.authenticate import Principal
from application.auth.login import LoginCommand, LoginUser
from application.auth.logout import LogoutUser
from application.auth.password import (
    ChangePassword,
    ForgotPasswordCommand,
    RequestPasswordReset,
    ResetPassword,
)
from application.auth.refresh import RefreshTokens
from application.auth.register import RegisterCommand, RegisterUser
from infrastructure.config import Settings
from interfaces.http.client import client_ip
from interfaces.http.envelope import Envelope, ok
from interfaces.http.identity import BEARER_AUTH
from interfaces.http.openapi import errors
from interfaces.http.schemas import (
    ForgotPasswordBody,
    LoginBody,
    LogoutBody,
    MessageView,
    PasswordChangeBody,
    ProfilePatch,
    RefreshBody,
    RegisterBody,
    ResetPasswordBody,
    TokenPairView,
    UserView,
)

RESET_REQUESTED = "If an account exists for this address, we have sent it a link to reset the password."


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=201,
        summary="Create an account",
        description="Registers an e-mail and password (NIST rules: 12-128 characters, not a common password) "
        "and logs the new user in.",
        responses=errors(400, 409, 413, 415),
    )
    @inject
    async def register(
        self, data: JSONBody[RegisterBody], register: FromDishka[RegisterUser]
    ) -> Envelope[TokenPairView]:
        cmd = RegisterCommand(data.email, data.password, data.display_name, data.preferred_language)
        return ok(TokenPairView.of(await register(cmd)))

    @post(
        "/login",
        status_code=200,
        summary="Log in",
        description="Trades e-mail and password for an access token (15 min) and a refresh token. "
        "Failed attempts are throttled per account and per IP (429 with Retry-After).",
        responses=errors(400, 401, 403, 429),
    )
    @inject
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginBody],
        login: FromDishka[LoginUser],
        settings: FromDishka[Settings],
    ) -> Envelope[TokenPairView]:
        ip = client_ip(request, settings.trusted_proxy_hops)
        return ok(TokenPairView.of(await login(LoginCommand(data.email, data.password, ip))))

    @post(
        "/refresh",
        status_code=200,
        summary="Rotate the refresh token",
        description="Each refresh token works once. Presenting a used one revokes its whole session.",
        responses=errors(400, 401),
    )
    @inject
    async def refresh(self, data: JSONBody[RefreshBody], refresh: FromDishka[RefreshTokens]) -> Envelope[TokenPairView]:
        return ok(TokenPairView.of(await refresh(data.refresh_token)))

    @post(
        "/logout",
        status_code=200,
        summary="Log out",
        description="Ends the session: its refresh tokens stop working and this access token is refused at once.",
        security=BEARER_AUTH,
        responses=errors(401, 403),
    )
    @inject
    async def logout(
        self, principal: FromDishka[Principal], logout: FromDishka[LogoutUser], data: JSONBody[LogoutBody | None] = None
    ) -> Envelope[MessageView]:
        await logout(principal, data.refresh_token if data else None)
        return ok(MessageView("Logged out"))

    @get("/profile", summary="Your profile", security=BEARER_AUTH, responses=errors(401))
    @inject
    async def profile(self, principal: FromDishka[Principal]) -> Envelope[UserView]:
        return ok(UserView.of(principal.user))

    @patch(
        "/profile",
        summary="Change your profile",
        description="Send only the fields to change; `display_name: null` removes the name.",
        security=BEARER_AUTH,
        responses=errors(400, 401, 403),
    )
    @inject
    async def update_profile(
        self, data: JSONBody[ProfilePatch], principal: FromDishka[Principal], update: FromDishka[UpdateProfile]
    ) -> Envelope[UserView]:
        changes = ProfileChanges(
            display_name=data.display_name if isinstance(data.display_name, str) else None,
            preferred_language=data.preferred_language if data.preferred_language is not UNSET else None,
            clear_display_name=data.display_name is None,
        )
        return ok(UserView.of(await update(principal, changes)))

    @post(
        "/password",
        status_code=200,
        summary="Change your password",
        description="Needs the current password. Ends every session and returns a new token pair.",
        security=BEARER_AUTH,
        responses=errors(400, 401, 403),
    )
    @inject
    async def change_password(
        self, data: JSONBody[PasswordChangeBody], principal: FromDishka[Principal], change: FromDishka[ChangePassword]
    ) -> Envelope[TokenPairView]:
        return ok(TokenPairView.of(await change(principal, data.current_password, data.new_password)))

    @post(
        "/forgot-password",
        status_code=202,
        summary="Ask for a password reset link",
        description="Always the same answer, whether or not the address has an account. The link is valid "
        "for 30 minutes and works once.",
        responses=errors(400, 429),
    )
    @inject
    async def forgot_password(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ForgotPasswordBody],
        forgot: FromDishka[RequestPasswordReset],
        settings: FromDishka[Settings],
    ) -> Envelope[MessageView]:
        await forgot(ForgotPasswordCommand(data.email, client_ip(request, settings.trusted_proxy_hops)))
        return ok(MessageView(RESET_REQUESTED))

    @post(
        "/reset-password",
        status_code=200,
        summary="Set a new password with a reset token",
        description="Spends the token and logs out every session of the account.",
        responses=errors(400),
    )
    @inject
    async def reset_password(
        self, data: JSONBody[ResetPasswordBody], reset: FromDishka[ResetPassword]
    ) -> Envelope[MessageView]:
        await reset(data.token, data.new_password)
        return ok(MessageView("Password changed; log in with the new password"))
