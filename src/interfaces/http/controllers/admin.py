"""`/api/v1/admin/*`: administrators only; everyone else gets 403."""

from __future__ import annotations

import uuid
from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, get, patch
from litestar.params import FromPath, JSONBody, Parameter

from application.accounts.admin import (
    AccountChanges,
    ChangeAccountAsAdmin,
    ListUsersAsAdmin,
    ReportRefusalsAsAdmin,
)
from application.auth.authenticate import Principal
from application.pagination import MAX_PAGE_SIZE, PageRequest
from interfaces.http.controllers.admin_schemas import AccountPatch, RateLimitsView
from interfaces.http.controllers.auth_schemas import UserView
from interfaces.http.envelope import Envelope, ListPage, ok
from interfaces.http.identity import ADMIN_AUTH
from interfaces.http.openapi import JSON_BODY, PARAMETERS, SIGNED_IN, errors


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]
    security = ADMIN_AUTH

    @get("/users", summary="All users, newest first", responses=errors(PARAMETERS, SIGNED_IN, ListUsersAsAdmin))
    @inject
    async def list_users(
        self,
        principal: FromDishka[Principal],
        list_users: FromDishka[ListUsersAsAdmin],
        limit: Annotated[int | None, Parameter(ge=1, le=MAX_PAGE_SIZE)] = None,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> Envelope[ListPage[UserView]]:
        page = await list_users(principal, PageRequest.of(limit, cursor))
        return ok(ListPage([UserView.of(u) for u in page.items], page.next_cursor))

    @patch(
        "/users/{user_id:uuid}",
        summary="Change a user's tier, role or disabled flag",
        description="Disabling ends the user's sessions and revokes their API tokens (re-enabling revives neither). "
        "An API token needs both `read` and `write`: the answer is the account's record.",
        responses=errors(PARAMETERS, JSON_BODY, SIGNED_IN, ChangeAccountAsAdmin),
    )
    @inject
    async def change_user(
        self,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[AccountPatch],
        principal: FromDishka[Principal],
        change: FromDishka[ChangeAccountAsAdmin],
    ) -> Envelope[UserView]:
        changes = AccountChanges(data.tier, data.role, data.disabled)
        return ok(UserView.of(await change(principal, user_id, changes)))

    @get(
        "/rate-limits",
        summary="Requests refused by the rate limits and quotas",
        description="Over the last `hours` (UTC hours, the current one included): refusals (429) per tier and "
        "code, and the signed-in users refused most. Kept two days.",
        responses=errors(PARAMETERS, SIGNED_IN, ReportRefusalsAsAdmin),
    )
    @inject
    async def rate_limits(
        self,
        principal: FromDishka[Principal],
        report: FromDishka[ReportRefusalsAsAdmin],
        hours: Annotated[int, Parameter(ge=1, le=48)] = 24,
        top: Annotated[int, Parameter(ge=1, le=100)] = 10,
    ) -> Envelope[RateLimitsView]:
        return ok(RateLimitsView.of(await report(principal, hours, top)))
