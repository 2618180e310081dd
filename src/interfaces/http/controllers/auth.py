"""`/api/v1/auth/*`, also mounted at the prototype's `/api/auth/*`."""

from __future__ import annotations

import structlog
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, Response, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.params import JSONBody
from msgspec import UNSET

from application.accounts.profile import ProfileChanges, UpdateProfile
from application.auth.authenticate import GetProfile, Principal
from application.auth.login import LoginCommand, LoginUser
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
from interfaces.http.controllers.auth_schemas import (
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
from interfaces.http.envelope import Envelope, ok
from interfaces.http.identity import BEARER_AUTH, ClientAddress
from interfaces.http.openapi import JSON_BODY, SIGNED_IN, errors

log = structlog.get_logger("scribe.auth")
RESET_REQUESTED = "If an account exists for this address, we have sent it a link to reset the password."


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=201,
        summary="Create an account",
        description="Registers an e-mail and password (NIST rules: 12-128 characters, not a common password) "
        "and logs the new user in. Limited per client address (429 with Retry-After).",
        responses=errors(JSON_BODY, RegisterUser),
    )
    @inject
    async def register(
        self, data: JSONBody[RegisterBody], register: FromDishka[RegisterUser], ip: FromDishka[ClientAddress]
    ) -> Envelope[TokenPairView]:
        cmd = RegisterCommand(data.email, data.password, data.display_name, data.preferred_language)
        return ok(TokenPairView.of(await register(cmd, ip)))

    @post(
        "/login",
        status_code=200,
        summary="Log in",
        description="Trades e-mail and password for an access token (15 min), a refresh token and a device "
        "token. Failed attempts are limited (429 with Retry-After): a client that sends the `device_token` of its "
        "last login to this account has its own allowance; others are limited per account and address, per "
        "address and per account, so guesses from elsewhere can lock out only clients that never logged in.",
        responses=errors(JSON_BODY, LoginUser),
    )
    @inject
    async def login(
        self, data: JSONBody[LoginBody], login: FromDishka[LoginUser], ip: FromDishka[ClientAddress]
    ) -> Envelope[TokenPairView]:
        return ok(TokenPairView.of(await login(LoginCommand(data.email, data.password, ip, data.device_token))))

    @post(
        "/refresh",
        status_code=200,
        summary="Rotate the refresh token",
        description="Each refresh token works once. Presenting a used one ends its whole session.",
        responses=errors(JSON_BODY, RefreshTokens),
    )
    @inject
    async def refresh(self, data: JSONBody[RefreshBody], refresh: FromDishka[RefreshTokens]) -> Envelope[TokenPairView]:
        return ok(TokenPairView.of(await refresh(data.refresh_token)))

    @post(
        "/logout",
        status_code=200,
        summary="Log out",
        description="Ends the session: its refresh tokens stop working and its access tokens are refused at once.",
        security=BEARER_AUTH,
        responses=errors(JSON_BODY, SIGNED_IN, LogoutUser),
    )
    @inject
    async def logout(
        self,
        principal: FromDishka[Principal],
        logout: FromDishka[LogoutUser],
        data: JSONBody[LogoutBody | None] = None,
    ) -> Envelope[MessageView]:
        await logout(principal, data.refresh_token if data else None)
        return ok(MessageView("Logged out"))

    @get("/profile", summary="Your profile", security=BEARER_AUTH, responses=errors(SIGNED_IN, GetProfile))
    @inject
    async def profile(self, principal: FromDishka[Principal], profile: FromDishka[GetProfile]) -> Envelope[UserView]:
        return ok(UserView.of(await profile(principal)))

    @patch(
        "/profile",
        summary="Change your profile",
        description="Send only the fields to change; `display_name: null` removes the name. An API token needs "
        "both `read` and `write`: the answer is the whole profile.",
        security=BEARER_AUTH,
        responses=errors(JSON_BODY, SIGNED_IN, UpdateProfile),
    )
    @inject
    async def update_profile(
        self, data: JSONBody[ProfilePatch], principal: FromDishka[Principal], update: FromDishka[UpdateProfile]
    ) -> Envelope[UserView]:
        changes = ProfileChanges(
            display_name=data.display_name if isinstance(data.display_name, str) else None,
            preferred_language=data.preferred_language if data.preferred_language is not UNSET else None,
            clear_display_name=data.display_name is None,
            preferred_provider=data.preferred_provider if isinstance(data.preferred_provider, str) else None,
            clear_preferred_provider=data.preferred_provider is None,
        )
        return ok(UserView.of(await update(principal, changes)))

    @post(
        "/password",
        status_code=200,
        summary="Change your password",
        description="Needs the current password (wrong guesses are limited). Ends every session and returns "
        "a new token pair.",
        security=BEARER_AUTH,
        responses=errors(JSON_BODY, SIGNED_IN, ChangePassword),
    )
    @inject
    async def change_password(
        self,
        data: JSONBody[PasswordChangeBody],
        principal: FromDishka[Principal],
        change: FromDishka[ChangePassword],
    ) -> Envelope[TokenPairView]:
        return ok(TokenPairView.of(await change(principal, data.current_password, data.new_password)))

    @post(
        "/forgot-password",
        status_code=202,
        summary="Ask for a password reset link",
        description="Always the same answer, at the same speed, whether or not the address has an account: "
        "the link (valid 30 minutes, single use) is prepared after the answer is sent. Limited per address "
        "(429); mails to one account are limited too, silently, without invalidating the last link sent.",
        responses=errors(JSON_BODY, AdmitPasswordResetRequest),
    )
    @inject
    async def forgot_password(
        self,
        data: JSONBody[ForgotPasswordBody],
        admit: FromDishka[AdmitPasswordResetRequest],
        send: FromDishka[SendPasswordResetLink],
        ip: FromDishka[ClientAddress],
    ) -> Response[Envelope[MessageView]]:
        await admit(ForgotPasswordCommand(data.email, ip))
        return Response(
            ok(MessageView(RESET_REQUESTED)),
            status_code=202,
            background=BackgroundTask(_send_reset_link, send, data.email),
        )

    @post(
        "/reset-password",
        status_code=200,
        summary="Set a new password with a reset token",
        description="Spends the token, logs out every session and revokes the account's API tokens.",
        responses=errors(JSON_BODY, ResetPassword),
    )
    @inject
    async def reset_password(
        self, data: JSONBody[ResetPasswordBody], reset: FromDishka[ResetPassword]
    ) -> Envelope[MessageView]:
        await reset(data.token, data.new_password)
        return ok(MessageView("Password changed; log in with the new password"))


async def _send_reset_link(send: SendPasswordResetLink, email: str) -> None:
    """Runs after the response (same request scope), so how long it takes tells the caller nothing."""
    try:
        await send(email)
    except Exception:  # the caller has its answer already; the failure belongs in the log
        log.exception("password_reset_link_failed")
