"""Assembles the Litestar app: routes, the error table, CORS, OpenAPI, and the dishka container."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from dishka import AsyncContainer, Provider
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from application.auth.revocations import AnnounceRevocations
from application.email import DeliverQueuedEmails
from application.processing.warming import WarmResultCache
from infrastructure.bootstrap.container import BackgroundLoops, make_container
from infrastructure.bootstrap.settings import Settings
from infrastructure.outages import outages, unavailable_dependency
from interfaces.http.controllers.admin import AdminController
from interfaces.http.controllers.api_keys import ApiKeysController
from interfaces.http.controllers.auth import AuthController
from interfaces.http.controllers.docs import docs_assets, docs_page
from interfaces.http.controllers.history import HistoryController
from interfaces.http.controllers.me import MeController
from interfaces.http.controllers.processing import (
    CACHED_HEADER,
    compare_providers,
    process,
    process_transcript_prototype,
    transcript_prototype,
    transcripts,
)
from interfaces.http.controllers.system import dictionary_by_path, dictionary_by_query, health, health_echo
from interfaces.http.errors import EXCEPTION_HANDLERS, PROTOTYPE_ROUTE
from interfaces.http.gates import allowed_methods, before_handler
from interfaces.http.identity import identity_providers
from interfaces.http.middleware import RequestContextMiddleware
from interfaces.http.rate_limits import RATE_LIMIT_HEADERS

log = structlog.get_logger("scribe.app")


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Scribe API",
        version="1",
        description=(
            "Turns YouTube videos and transcripts into summaries, key topics, mind maps and posts. "
            "Every response uses the envelope `{success, data}` or `{success: false, error, code, details?}`. "
            "The prototype's paths (`/api/auth/*`, `/api/health`, `/api/dictionary`, `/api/transcript`, "
            "`/api/ai/process-transcript`) remain, with the prototype's shapes."
        ),
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT access token or personal API token (scribe_...)",
                )
            }
        ),
        use_handler_docstrings=False,
    )


@contextlib.asynccontextmanager
async def _background_work(app: Litestar) -> AsyncIterator[None]:
    """While the server runs: keep shared state in step with other processes, announce revoked sessions that
    could not be announced at once, deliver the e-mail outbox and warm the result cache (the worker takes the
    outbox and the warming over when the job queue lands)."""
    container: AsyncContainer = app.state.dishka_container
    settings: Settings = app.state.settings

    async def every(seconds: float, work: type[DeliverQueuedEmails | AnnounceRevocations | WarmResultCache]) -> None:
        while True:
            try:
                async with container() as request_container:
                    await (await request_container.get(work))()
            except Exception as error:  # a bad round must not end the loop
                dependency = unavailable_dependency(error)
                if dependency is None:
                    log.exception("background_work_failed", work=work.__name__)
                else:
                    outages.failed(dependency, error)
            await asyncio.sleep(seconds)

    background = await container.get(BackgroundLoops)
    tasks = [
        *(asyncio.create_task(loop()) for loop in background.loops),
        asyncio.create_task(every(settings.revocation_relay_seconds, AnnounceRevocations)),
        asyncio.create_task(every(settings.email_relay_seconds, DeliverQueuedEmails)),
        asyncio.create_task(every(settings.cache_warm_interval_seconds, WarmResultCache)),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_app(settings: Settings, *providers: Provider) -> Litestar:
    container = make_container(settings, *identity_providers(), *providers)
    canonical: list[Any] = [
        AuthController,
        MeController,
        ApiKeysController,
        HistoryController,
        AdminController,
        dictionary_by_path,
        process,
        transcripts,
        compare_providers,
    ]
    prototype: list[Any] = [
        AuthController,
        health,
        health_echo,
        dictionary_by_query,
        process_transcript_prototype,
        transcript_prototype,
    ]
    route_handlers: list[Any] = [
        Router("/api/v1", route_handlers=canonical),
        Router("/api", route_handlers=prototype, opt={PROTOTYPE_ROUTE: True}),
    ]
    if settings.serves_docs:
        route_handlers += [docs_page, docs_assets]

    async def close_container(_app: Litestar) -> None:
        await container.close()

    app = Litestar(
        route_handlers=route_handlers,
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=before_handler,
        cors_config=CORSConfig(
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            allow_credentials=settings.cors_allow_credentials,
            expose_headers=["X-Request-ID", "Retry-After", CACHED_HEADER, *RATE_LIMIT_HEADERS],
            max_age=600,
        ),
        openapi_config=_openapi() if settings.serves_docs else None,
        request_max_body_size=settings.max_body_bytes,
        lifespan=[_background_work],
        on_shutdown=[close_container],
        debug=False,
        logging_config=None,
    )
    app.state.settings = settings
    app.state.allowed_methods = allowed_methods(app)
    app.state.dishka_container = container
    app.asgi_handler = RequestContextMiddleware(app.asgi_handler, container, hsts=settings.is_deployed)
    return app
