"""Who is calling, and from where: request-scoped values the handlers get from the container."""

from __future__ import annotations

from typing import NewType

from dishka import Provider, Scope, provide
from dishka.integrations.litestar import LitestarProvider
from litestar import Request

from application.access import Caller
from application.auth.authenticate import Authenticate, Principal
from application.errors import AuthenticationFailed
from application.limits import LimitStatus
from infrastructure.bootstrap.settings import Settings

BEARER_AUTH: list[dict[str, list[str]]] = [{"BearerToken": []}]
# OpenAPI 3.1 lets a bearer requirement name roles; the request gate enforces what the document says.
ADMIN_ROLE = "admin"
ADMIN_AUTH: list[dict[str, list[str]]] = [{"BearerToken": [ADMIN_ROLE]}]

ClientAddress = NewType("ClientAddress", str)
LIMIT_STATUS = "limit_status"  # the request state's key for the request's LimitStatus


async def _authenticate(request: Request, authenticate: Authenticate) -> Principal:  # type: ignore[type-arg]
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise AuthenticationFailed("missing_bearer")
    principal = await authenticate(credential.strip())
    request.scope.setdefault("state", {})["user_id"] = str(principal.user.id)  # for the request log
    return principal


class IdentityProvider(LitestarProvider):
    @provide(scope=Scope.REQUEST)
    async def principal(self, request: Request, authenticate: Authenticate) -> Principal:  # type: ignore[type-arg]
        return await _authenticate(request, authenticate)

    @provide(scope=Scope.REQUEST)
    async def caller(self, request: Request, authenticate: Authenticate, address: ClientAddress) -> Caller:  # type: ignore[type-arg]
        """Routes open to anonymous clients: a credential, when sent, must still be valid."""
        if "authorization" not in request.headers:
            return Caller(None, address)
        return Caller(await _authenticate(request, authenticate), address)

    @provide(scope=Scope.REQUEST)
    def client_address(self, request: Request, settings: Settings, limits: LimitStatus) -> ClientAddress:  # type: ignore[type-arg]
        """X-Forwarded-For is believed only for as many hops as we run proxies ourselves.

        Every limited route asks for the address, so the request's LimitStatus is put in its state here: an error
        answered after the request was counted carries the `RateLimit-*` headers too. (LimitStatus itself is the
        use cases' own, so that work outside HTTP, which has no request, resolves them as well.)"""
        request.scope.setdefault("state", {})[LIMIT_STATUS] = limits
        hops = settings.trusted_proxy_hops
        if hops > 0:
            forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
            if len(forwarded) >= hops:
                return ClientAddress(forwarded[-hops])
        return ClientAddress(request.client.host if request.client else "unknown")


def identity_providers() -> list[Provider]:
    return [IdentityProvider()]
