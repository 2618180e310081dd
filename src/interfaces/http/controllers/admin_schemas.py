"""Bodies and views of the admin routes (accounts answer with the auth routes' `UserView`)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from application.accounts.admin import RefusalReport
from domain.users import Role, Tier


class AccountPatch(msgspec.Struct, forbid_unknown_fields=True):
    tier: Annotated[Tier, Meta(examples=["pro"])] | None = None
    role: Role | None = None
    disabled: bool | None = None


class LimitedUserView(msgspec.Struct):
    user_id: uuid.UUID
    email: str | None
    refusals: int


class RateLimitsView(msgspec.Struct):
    hours: int
    by_tier: Annotated[
        dict[str, dict[str, int]],
        Meta(description="Refused requests (429) per tier, by code: rate_limited, quota_exceeded"),
    ]
    top_users: Annotated[list[LimitedUserView], Meta(description="Signed-in users refused most, most first")]

    @classmethod
    def of(cls, report: RefusalReport) -> RateLimitsView:
        return cls(
            report.hours,
            {tier: dict(codes) for tier, codes in report.by_tier.items()},
            [LimitedUserView(u.user_id, u.email, u.refusals) for u in report.top_users],
        )
