"""The one ASGI layer of ours around Litestar: request id, security headers, the request's lazy dishka scope,
one log line per request. One layer, not one per concern: each layer costs a coroutine and a scope check on
every request."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from dishka import AsyncContainer
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from interfaces.http.request_scope import LazyRequestContainer

_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# API answers carry tokens and personal data: no cache (browser or proxy) may keep them.
_NO_STORE = (b"cache-control", b"no-store")
# The docs page runs our own copy of Swagger UI, which sets inline styles.
_DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"connect-src 'self'; font-src 'self'; frame-ancestors 'none'",
)
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, container: AsyncContainer, *, hsts: bool) -> None:
        self._app = app
        self._container = container
        extra = (_HSTS,) if hsts else ()
        # Built once: per request only the request id is added.
        self._api_headers = (*_API_HEADERS, _API_CSP, _NO_STORE, *extra)
        self._docs_headers = (*_API_HEADERS, _DOCS_CSP, *extra)
        self._log = structlog.get_logger("scribe.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        await self._handle(scope, receive, send)

    async def _handle(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        dishka = LazyRequestContainer(self._container, scope)
        scope.setdefault("state", {})["dishka_container"] = dishka
        status = 500
        fixed = self._docs_headers if scope["path"].startswith(("/docs", "/schema")) else self._api_headers
        extra_headers = (*fixed, (b"x-request-id", request_id.encode()))

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        try:
            await self._app(scope, receive, send_with_headers)
        finally:
            try:
                await dishka.close()
            finally:
                state: dict[str, Any] = scope.get("state") or {}
                self._log.info(
                    "request",
                    method=scope["method"],
                    route=scope.get("path_template") or "(unmatched)",
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    user_id=state.get("user_id"),
                    request_id=request_id,
                )


def _request_id(scope: HTTPScope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id" and _REQUEST_ID.fullmatch(value):
            return value.decode()
    return os.urandom(16).hex()
