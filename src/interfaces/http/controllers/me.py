"""`/api/v1/me/*`: the caller's own API tokens and usage."""

from __future__ import annotations

import uuid
from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody, Parameter

from application.accounts.api_tokens import (
    CreateApiToken,
    CreateApiTokenCommand,
    ListApiTokens,
    RevokeApiToken,
)
from application.accounts.closure import DeleteAccount
from application.accounts.export import ExportMyData
from application.accounts.usage import GetUsage
from application.auth.authenticate import Principal
from application.pagination import MAX_PAGE_SIZE, PageRequest
from interfaces.http.controllers.me_schemas import (
    ApiTokenView,
    CreateApiTokenBody,
    CreatedApiTokenView,
    MyDataView,
    MyUsageView,
)
from interfaces.http.envelope import Envelope, ListPage, ok
from interfaces.http.identity import BEARER_AUTH
from interfaces.http.openapi import JSON_BODY, PARAMETERS, SIGNED_IN, errors

Limit = Annotated[int | None, Parameter(ge=1, le=MAX_PAGE_SIZE, description="Page size (default 20)")]
CursorParam = Annotated[str | None, Parameter(max_length=200, description="`next_cursor` of the previous page")]


class MeController(Controller):
    path = "/me"
    tags = ["me"]
    security = BEARER_AUTH

    @get(
        "/export",
        summary="All your data, as JSON",
        description="Your profile, API tokens (never their secrets), provider keys (masked hints only), usage and "
        "your whole history with every output, in one document.",
        responses=errors(SIGNED_IN, ExportMyData),
    )
    @inject
    async def export(self, principal: FromDishka[Principal], export: FromDishka[ExportMyData]) -> Envelope[MyDataView]:
        return ok(MyDataView.of(await export(principal)))

    @delete(
        "/",
        summary="Delete your account and all its data",
        description="Needs `confirm=true` and a login session (not an API token). Your profile, sessions, API "
        "tokens, provider keys, usage and history are deleted at once; your tokens stop working.",
        responses=errors(PARAMETERS, SIGNED_IN, DeleteAccount),
    )
    @inject
    async def delete_account(
        self,
        principal: FromDishka[Principal],
        delete_account: FromDishka[DeleteAccount],
        confirm: Annotated[bool, Parameter(description="Must be true")] = False,
    ) -> None:
        await delete_account(principal, confirm)

    @post(
        "/tokens",
        status_code=201,
        summary="Create a personal API token",
        description="The token (`scribe_...`) is in this response only; we keep just its hash. "
        "Needs a login session: an API token cannot mint more.",
        responses=errors(JSON_BODY, SIGNED_IN, CreateApiToken),
    )
    @inject
    async def create_token(
        self, data: JSONBody[CreateApiTokenBody], principal: FromDishka[Principal], create: FromDishka[CreateApiToken]
    ) -> Envelope[CreatedApiTokenView]:
        created = await create(principal, CreateApiTokenCommand(data.name, tuple(data.scopes), data.expires_in_days))
        return ok(CreatedApiTokenView(created.secret, ApiTokenView.of(created.token)))

    @get("/tokens", summary="Your API tokens, newest first", responses=errors(PARAMETERS, SIGNED_IN, ListApiTokens))
    @inject
    async def list_tokens(
        self,
        principal: FromDishka[Principal],
        list_tokens: FromDishka[ListApiTokens],
        limit: Limit = None,
        cursor: CursorParam = None,
    ) -> Envelope[ListPage[ApiTokenView]]:
        page = await list_tokens(principal, PageRequest.of(limit, cursor))
        return ok(ListPage([ApiTokenView.of(t) for t in page.items], page.next_cursor))

    @delete(
        "/tokens/{token_id:uuid}",
        summary="Revoke an API token",
        responses=errors(PARAMETERS, SIGNED_IN, RevokeApiToken),
    )
    @inject
    async def revoke_token(
        self, token_id: FromPath[uuid.UUID], principal: FromDishka[Principal], revoke: FromDishka[RevokeApiToken]
    ) -> None:
        await revoke(principal, token_id)

    @get(
        "/usage",
        summary="Your usage so far, and today's quota",
        description="`quota`: your tier's jobs a UTC day on the server's AI keys and how many are left; jobs "
        "served with your own provider keys are not counted.",
        responses=errors(SIGNED_IN, GetUsage),
    )
    @inject
    async def usage(self, principal: FromDishka[Principal], get_usage: FromDishka[GetUsage]) -> Envelope[MyUsageView]:
        return ok(MyUsageView.of_report(await get_usage(principal)))
