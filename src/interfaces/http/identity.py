"""Who is calling: the Bearer credential of the request, turned into a Principal by the Authenticate use case."""

from __future__ import annotations

from dishka import Provider, Scope, provide
from dishka.integrations.litestar import LitestarProvider
from litestar import Request

from application.auth.authenticate import Authenticate, Principal
from application.errors import AuthenticationFailed

BEARER_AUTH: list[dict[str, list[str]]] = [{"BearerToken": []}]


class IdentityProvider(LitestarProvider):
    @provide(scope=Scope.REQUEST)
    async def principal(self, request: Request, authenticate: Authenticate) -> Principal:  # type: ignore[type-arg]
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise AuthenticationFailed("missing_bearer")
        principal = await authenticate(credential.strip())
        request.scope.setdefault("state", {})["user_id"] = str(principal.user.id)  # for the request log
        return principal


def identity_providers() -> list[Provider]:
    return [IdentityProvider()]
