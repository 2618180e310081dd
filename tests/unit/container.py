"""Use cases assembled the way production assembles them: the production UseCaseProvider, with one World's
in-memory fakes where the adapter providers put real adapters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dishka import AsyncContainer, Provider, Scope, make_async_container, provide

from application.access import ProcessingPolicy
from application.accounts.ports import ProviderKeyRepository, SecretBox
from application.accounts.provider_keys import ProviderKeyPolicy
from application.auth.policy import AuthPolicy
from application.history import CursorSeal, HistoryStore
from application.history_export import HistoryPdfRenderer
from application.limits import RateLimiter, RefusalLog
from application.ports import (
    AccessTokenIssuer,
    AccountReader,
    ApiTokenRepository,
    AttemptCounter,
    Clock,
    DeviceTokens,
    EmailOutbox,
    EmailTransport,
    PasswordHasher,
    PasswordResetRepository,
    RevocationOutbox,
    RevokedSessions,
    SessionRepository,
    UnitOfWork,
    UsageRepository,
    UserCache,
    UserRepository,
)
from application.processing.catalog import ProviderCatalog
from application.processing.ports import (
    CircuitBreaker,
    HistoryRepository,
    LanguageIdentifier,
    ProviderStats,
    TranscriptSource,
)
from application.processing.result_cache import ResultCachePolicy, ResultStore, SingleFlight
from application.processing.runner import OutputRunner
from infrastructure.bootstrap.use_cases import UseCaseProvider
from tests.unit.fakes import World

# Each port the use cases depend on, and the World field that plays it.
PORTS: dict[Any, str] = {
    Clock: "clock",
    UnitOfWork: "uow",
    UserRepository: "users",
    SessionRepository: "sessions",
    PasswordResetRepository: "resets",
    ApiTokenRepository: "api_tokens",
    UsageRepository: "usage",
    EmailOutbox: "outbox",
    EmailTransport: "transport",
    RevocationOutbox: "revocations",
    RevokedSessions: "revoked",
    AccountReader: "accounts",
    AttemptCounter: "attempts",
    UserCache: "cache",
    PasswordHasher: "hasher",
    AccessTokenIssuer: "issuer",
    DeviceTokens: "devices",
    AuthPolicy: "policy",
    ProviderKeyRepository: "provider_keys",
    SecretBox: "box",
    ProviderCatalog: "catalog",
    CircuitBreaker: "breaker",
    ProviderStats: "stats",
    HistoryRepository: "history",
    HistoryStore: "history",
    CursorSeal: "cursor_seal",
    HistoryPdfRenderer: "pdf",
    TranscriptSource: "transcripts",
    LanguageIdentifier: "languages",
    ProcessingPolicy: "processing",
    ProviderKeyPolicy: "provider_key_policy",
    ResultStore: "results",
    SingleFlight: "flights",
    ResultCachePolicy: "result_cache",
    RateLimiter: "limiter",
    RefusalLog: "refusals",
}


class FakeAdapters(Provider):
    """What the adapter providers are to production, over one World. Each field is read when a use case first
    needs it, so a test may swap a fake (a slow hasher, a scripted catalogue) until then."""

    scope = Scope.APP

    def __init__(self, world: World) -> None:
        super().__init__()
        self._world = world
        for port, name in PORTS.items():
            self.provide(self._field(name), provides=port)

    def _field(self, name: str) -> Callable[[], object]:
        def read() -> object:
            return getattr(self._world, name)

        return read

    @provide
    def runner(self, catalog: ProviderCatalog, breaker: CircuitBreaker, stats: ProviderStats) -> OutputRunner:
        world = self._world
        return OutputRunner(
            catalog, breaker, stats, world.max_output_tokens, world.map_concurrency, world.request_budget_seconds
        )


def use_case_container(world: World) -> AsyncContainer:
    return make_async_container(UseCaseProvider(), FakeAdapters(world))


class UseCase:
    """A use case of the container, called in a request scope of its own as the web app calls it.

    Declared on a class that has `container`:  `login = UseCase(LoginUser)`, then `await uc.login(command)`."""

    def __init__(self, kind: type) -> None:
        self._kind = kind

    def __get__(self, instance: Any, owner: type | None = None) -> Callable[..., Awaitable[Any]]:
        container: AsyncContainer = instance.container

        async def call(*args: Any) -> Any:
            async with container() as request:
                return await (await request.get(self._kind))(*args)

        return call
