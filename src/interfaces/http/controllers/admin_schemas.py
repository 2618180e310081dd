"""Bodies of the admin routes (they answer with the auth routes' `UserView`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from domain.users import Role, Tier


class AccountPatch(msgspec.Struct, forbid_unknown_fields=True):
    tier: Annotated[Tier, Meta(examples=["pro"])] | None = None
    role: Role | None = None
    disabled: bool | None = None
