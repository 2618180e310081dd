"""Bodies and views of the auth routes (and the user record the admin routes answer with too)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from application.auth.tokens import TokenPair
from domain.users import Role, Tier, User

# Generous shape limits; the domain gives the precise rule (e.g. passwords 12..128).
EmailField = Annotated[str, Meta(max_length=320, description="E-mail address", examples=["ada@example.com"])]
PasswordField = Annotated[
    str, Meta(max_length=1024, description="12 to 128 characters", examples=["correct horse battery staple"])
]
TokenField = Annotated[
    str, Meta(min_length=1, max_length=512, examples=["kq3V0x1mNn8Yc2v1Qe7r9tYpLm4sZa6WbD0fGhJkLmE"])
]


class RegisterBody(msgspec.Struct, forbid_unknown_fields=True):
    email: EmailField
    password: PasswordField
    display_name: Annotated[str, Meta(max_length=1000, examples=["Ada"])] | None = None
    preferred_language: Annotated[str, Meta(max_length=10, examples=["pl"])] | None = None


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    email: EmailField
    password: Annotated[str, Meta(max_length=1024, examples=["correct horse battery staple"])]
    device_token: (
        Annotated[
            str,
            Meta(
                max_length=200,
                description="The `device_token` of this client's last login to this account: its failed "
                "logins are then limited on their own, so others' guesses cannot lock it out",
            ),
        ]
        | None
    ) = None


class RefreshBody(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: TokenField


class LogoutBody(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: TokenField | None = None


class ProfilePatch(msgspec.Struct, forbid_unknown_fields=True):
    display_name: Annotated[str, Meta(max_length=1000)] | UnsetType | None = UNSET
    preferred_language: Annotated[str, Meta(max_length=10, examples=["en"])] | UnsetType = UNSET
    preferred_provider: Annotated[str, Meta(max_length=30, examples=["anthropic"])] | UnsetType | None = UNSET


class PasswordChangeBody(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, Meta(max_length=1024)]
    new_password: PasswordField


class ForgotPasswordBody(msgspec.Struct, forbid_unknown_fields=True):
    email: EmailField


class ResetPasswordBody(msgspec.Struct, forbid_unknown_fields=True):
    token: TokenField
    new_password: PasswordField


class UserView(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str | None
    preferred_language: str
    tier: Tier
    role: Role
    email_verified: bool
    disabled: bool
    usage_count: int
    created_at: datetime
    preferred_provider: str | None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            user.id,
            user.email,
            user.display_name,
            user.preferred_language,
            user.tier,
            user.role,
            user.email_verified,
            user.disabled,
            user.usage_count,
            user.created_at,
            user.preferred_provider,
        )


class TokenPairView(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserView
    token_type: str = "Bearer"
    device_token: Annotated[
        str | None,
        Meta(description="Logins only: keep it on this device and send it with its next login (see `login`)"),
    ] = None

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairView:
        return cls(
            pair.access_token,
            pair.refresh_token,
            pair.expires_in,
            UserView.of(pair.user),
            device_token=pair.device_token,
        )


class MessageView(msgspec.Struct):
    message: str
