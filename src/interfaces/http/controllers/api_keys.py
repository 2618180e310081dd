"""`/api/v1/me/api-keys`: the caller's own AI provider keys (BYOK). A key goes in; only a masked hint comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Controller, delete, get, put
from litestar.params import JSONBody, Parameter
from msgspec import Meta

from application.accounts.provider_keys import (
    MAX_KEY_LENGTH,
    MIN_KEY_LENGTH,
    DeleteProviderKey,
    ListProviderKeys,
    ProviderKeyInfo,
    SaveProviderKey,
)
from application.auth.authenticate import Principal
from application.processing.catalog import KEYED_PROVIDERS
from interfaces.http.envelope import Envelope, ListPage, ok
from interfaces.http.identity import BEARER_AUTH
from interfaces.http.openapi import JSON_BODY, PARAMETERS, SIGNED_IN, errors

ProviderParam = Annotated[
    str, Parameter(max_length=50, description=f"The provider: one of {', '.join(KEYED_PROVIDERS)} if configured")
]


class ProviderKeyBody(msgspec.Struct, forbid_unknown_fields=True):
    api_key: Annotated[
        str,
        Meta(
            max_length=1024,
            description=f"Your key for this provider ({MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters)",
            examples=["sk-ant-api03-EXAMPLE-KEY"],
        ),
    ]

    # The key must not reach a log or traceback through a repr of the request body.
    def __repr__(self) -> str:
        return "ProviderKeyBody(api_key=<hidden>)"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [("api_key", "<hidden>")]


class ProviderKeyView(msgspec.Struct):
    provider: str
    hint: Annotated[str, Meta(description="Enough to recognise the key, not to use it", examples=["sk-a…f9Qx"])]
    key_version: Annotated[str, Meta(description="The server's master key version that encrypts it")]
    updated_at: datetime

    @classmethod
    def of(cls, info: ProviderKeyInfo) -> ProviderKeyView:
        return cls(info.provider, info.hint, info.key_version, info.updated_at)


class ApiKeysController(Controller):
    path = "/me/api-keys"
    tags = ["me"]
    security = BEARER_AUTH

    @get(
        "/",
        summary="Your AI provider keys",
        description="One entry per provider you stored a key for, as a masked hint: the key itself is never shown.",
        responses=errors(SIGNED_IN, ListProviderKeys),
    )
    @inject
    async def list_keys(
        self, principal: FromDishka[Principal], list_keys: FromDishka[ListProviderKeys]
    ) -> Envelope[ListPage[ProviderKeyView]]:
        return ok(ListPage([ProviderKeyView.of(k) for k in await list_keys(principal)], None))

    @put(
        "/{provider:str}",
        summary="Save your key for a provider",
        description="Checked with the provider first (a cheap authenticated call): a key it refuses is 422, a "
        "provider that cannot be asked is 502, and nothing is stored in either case. Replaces your previous key "
        "for that provider. Stored encrypted; your requests then use it before the server's own keys.",
        responses=errors(PARAMETERS, JSON_BODY, SIGNED_IN, SaveProviderKey),
    )
    @inject
    async def save_key(
        self,
        provider: ProviderParam,
        data: JSONBody[ProviderKeyBody],
        principal: FromDishka[Principal],
        save: FromDishka[SaveProviderKey],
    ) -> Envelope[ProviderKeyView]:
        return ok(ProviderKeyView.of(await save(principal, provider, data.api_key)))

    @delete(
        "/{provider:str}",
        summary="Delete your key for a provider",
        description="Your requests fall back to the server's keys for that provider.",
        responses=errors(PARAMETERS, SIGNED_IN, DeleteProviderKey),
    )
    @inject
    async def delete_key(
        self, provider: ProviderParam, principal: FromDishka[Principal], delete_key: FromDishka[DeleteProviderKey]
    ) -> None:
        await delete_key(principal, provider)
