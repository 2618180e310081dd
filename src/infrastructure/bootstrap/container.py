"""The one container factory: web app, CLI (and later the worker) resolve use cases from it.

Adapter providers build each port's adapter from settings (the only place that reads them besides the catalog and
the keyring); `UseCaseProvider` declares the use cases, which depend on ports only. Tests assemble the same
`UseCaseProvider` with in-memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container, provide
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from application.access import ProcessingPolicy
from application.accounts.ports import ProviderKeyRepository, SecretBox
from application.accounts.provider_keys import (
    ProviderKeyPolicy,
)
from application.auth.policy import AuthPolicy
from application.history import CursorSeal, HistoryStore
from application.history_export import HistoryPdfRenderer
from application.limits import ANONYMOUS, RateLimiter, RefusalLog, TierLimits
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
from domain.users import Tier
from infrastructure.ai.circuit_breaker import InMemoryCircuitBreaker
from infrastructure.ai.language import Py3LangidIdentifier
from infrastructure.ai.local import LocalProvider
from infrastructure.ai.provider_stats import InMemoryProviderStats
from infrastructure.ai.redis_stats import RedisProviderStats
from infrastructure.bootstrap.catalog import build_catalog
from infrastructure.bootstrap.keyring import secret_box_from_settings
from infrastructure.bootstrap.settings import Settings
from infrastructure.bootstrap.use_cases import UseCaseProvider
from infrastructure.cache.memory import InMemoryResultStore, InProcessSingleFlight
from infrastructure.cache.redis import RedisResultStore, RedisSingleFlight
from infrastructure.clock import SystemClock
from infrastructure.documents.pdf import PdfHistoryRenderer
from infrastructure.email.transports import LogEmailTransport, SmtpEmailTransport
from infrastructure.persistence.database import SqlUnitOfWork, make_engine, make_session_factory
from infrastructure.persistence.provider_keys import SqlProviderKeyRepository
from infrastructure.persistence.repositories import (
    SqlAccountReader,
    SqlApiTokenRepository,
    SqlEmailOutbox,
    SqlHistoryRepository,
    SqlPasswordResetRepository,
    SqlRevocationOutbox,
    SqlRevocationSource,
    SqlSessionRepository,
    SqlUsageRepository,
    SqlUserRepository,
)
from infrastructure.security.cursor_seal import HmacCursorSeal
from infrastructure.security.device_tokens import HmacDeviceTokens
from infrastructure.security.jwt_tokens import JwtAccessTokenIssuer
from infrastructure.security.passwords import Argon2PasswordHasher
from infrastructure.state.failover import (
    FailoverAttemptCounter,
    FailoverRateLimiter,
    FailoverRefusalLog,
    RedisFailover,
)
from infrastructure.state.memory import (
    InMemoryAttemptCounter,
    InMemoryRateLimiter,
    InMemoryRefusalLog,
    InMemoryUserCache,
    RevocationSource,
    RevokedSessionMirror,
    StateSync,
)
from infrastructure.state.redis import (
    RedisAttemptCounter,
    RedisBroadcastUserCache,
    RedisRateLimiter,
    RedisRefusalLog,
    RedisRevokedSessions,
    RedisStateSync,
)
from infrastructure.transcripts.youtube import YouTubeTranscriptSource


class PolicyProvider(Provider):
    """Settings, and the policies the use cases read their limits from."""

    settings = from_context(provides=Settings, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def auth_policy(self, settings: Settings) -> AuthPolicy:
        return AuthPolicy(
            access_token_lifetime=timedelta(minutes=settings.access_token_minutes),
            refresh_idle_lifetime=timedelta(days=settings.refresh_token_days),
            session_max_age=timedelta(days=settings.session_max_days),
            reset_token_lifetime=timedelta(minutes=settings.password_reset_minutes),
            password_reset_url=settings.password_reset_url,
            login_failures_per_account_ip=settings.login_failures_per_account_ip,
            login_failures_per_ip=settings.login_failures_per_ip,
            login_failures_per_account=settings.login_failures_per_account,
            login_window_seconds=settings.login_window_seconds,
            reset_requests_per_account=settings.reset_requests_per_account,
            reset_requests_per_ip=settings.reset_requests_per_ip,
            registrations_per_ip=settings.registrations_per_ip,
            registration_window_seconds=settings.registration_window_seconds,
            reset_window_seconds=settings.reset_window_seconds,
            password_change_failures=settings.password_change_failures,
        )

    @provide(scope=Scope.APP)
    def provider_key_policy(self, settings: Settings) -> ProviderKeyPolicy:
        return ProviderKeyPolicy(key_checks_per_hour=settings.provider_key_checks_per_hour)

    @provide(scope=Scope.APP)
    def result_cache_policy(self, settings: Settings) -> ResultCachePolicy:
        return ResultCachePolicy(
            ttl_seconds=settings.result_cache_seconds,
            warm_top_n=settings.cache_warm_top_n,
            warm_budget_tokens=settings.cache_warm_budget_tokens,
            # Recomputed when it would expire before the run after next: a late or failed run still leaves time.
            warm_before_seconds=2 * settings.cache_warm_interval_seconds,
        )


class DatabaseAdapters(Provider):
    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = make_engine(settings.database_url, settings.database_pool_size)
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return make_session_factory(engine)

    @provide(scope=Scope.REQUEST)
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        async with factory() as session:  # closing rolls back whatever was not committed
            yield session

    uow = provide(SqlUnitOfWork, provides=UnitOfWork, scope=Scope.REQUEST)
    users = provide(SqlUserRepository, provides=UserRepository, scope=Scope.REQUEST)
    sessions = provide(SqlSessionRepository, provides=SessionRepository, scope=Scope.REQUEST)
    resets = provide(SqlPasswordResetRepository, provides=PasswordResetRepository, scope=Scope.REQUEST)
    api_tokens = provide(SqlApiTokenRepository, provides=ApiTokenRepository, scope=Scope.REQUEST)
    usage = provide(SqlUsageRepository, provides=UsageRepository, scope=Scope.REQUEST)
    outbox = provide(SqlEmailOutbox, provides=EmailOutbox, scope=Scope.REQUEST)
    revocation_outbox = provide(SqlRevocationOutbox, provides=RevocationOutbox, scope=Scope.REQUEST)
    provider_keys = provide(SqlProviderKeyRepository, provides=ProviderKeyRepository, scope=Scope.REQUEST)
    accounts = provide(SqlAccountReader, provides=AccountReader, scope=Scope.APP)


class SharedStateAdapters(Provider):
    """In-process for the embedded runtime; Redis when SCRIBE_REDIS_URL is set (every process agrees)."""

    scope = Scope.APP

    @provide
    async def redis(self, settings: Settings) -> AsyncIterator[Redis | None]:
        if settings.redis_url is None:
            yield None
            return
        client = Redis.from_url(
            settings.redis_url,
            socket_timeout=5,
            socket_connect_timeout=2,
            socket_keepalive=True,
            # A pooled connection that went stale (Redis restarted) is replaced and the command sent again, so
            # nobody sees it; while Redis is down, requests fail fast (503) instead of backing off for seconds.
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=2),
            health_check_interval=10,
        )
        yield client
        await client.aclose()

    @provide
    def revocation_source(self, sessions: async_sessionmaker[AsyncSession]) -> RevocationSource:
        return SqlRevocationSource(sessions)

    @provide
    def revoked_sessions(
        self, redis: Redis | None, settings: Settings, source: RevocationSource, policy: AuthPolicy
    ) -> RevokedSessionMirror:
        if redis is None:
            return RevokedSessionMirror(source, policy.access_token_lifetime)
        return RedisRevokedSessions(redis, settings.redis_prefix, source, policy.access_token_lifetime)

    @provide
    def revoked_sessions_port(self, mirror: RevokedSessionMirror) -> RevokedSessions:
        return mirror

    @provide
    def user_cache(self, redis: Redis | None, settings: Settings) -> UserCache:
        if redis is None:
            return InMemoryUserCache(settings.user_cache_seconds)
        return RedisBroadcastUserCache(redis, settings.redis_prefix, settings.user_cache_seconds)

    @provide
    def state_sync(
        self, redis: Redis | None, settings: Settings, sessions: RevokedSessionMirror, users: UserCache
    ) -> StateSync:
        if redis is None:
            return StateSync(sessions)
        assert isinstance(sessions, RedisRevokedSessions)
        assert isinstance(users, RedisBroadcastUserCache)
        return RedisStateSync(redis, settings.redis_prefix, sessions, users)

    @provide
    def failover(self, settings: Settings) -> RedisFailover:
        return RedisFailover(settings.limits_redis_retry_seconds)

    @provide
    def attempts(self, redis: Redis | None, settings: Settings, failover: RedisFailover) -> AttemptCounter:
        if redis is None:
            return InMemoryAttemptCounter()
        return FailoverAttemptCounter(
            RedisAttemptCounter(redis, settings.redis_prefix), InMemoryAttemptCounter(), failover
        )

    @provide
    def limiter(self, redis: Redis | None, settings: Settings, failover: RedisFailover) -> RateLimiter:
        if redis is None:
            return InMemoryRateLimiter()
        return FailoverRateLimiter(RedisRateLimiter(redis, settings.redis_prefix), InMemoryRateLimiter(), failover)

    @provide
    def refusals(self, redis: Redis | None, settings: Settings, failover: RedisFailover) -> RefusalLog:
        if redis is None:
            return InMemoryRefusalLog()
        return FailoverRefusalLog(RedisRefusalLog(redis, settings.redis_prefix), InMemoryRefusalLog(), failover)

    @provide
    def result_store(self, redis: Redis | None, settings: Settings) -> ResultStore:
        return RedisResultStore(redis, settings.redis_prefix) if redis else InMemoryResultStore()

    @provide
    def single_flight(self, redis: Redis | None, settings: Settings) -> SingleFlight:
        if redis is None:
            return InProcessSingleFlight()
        return RedisSingleFlight(redis, settings.redis_prefix, settings.single_flight_lease_seconds)


class SystemAdapters(Provider):
    """The clock and the mail transport."""

    scope = Scope.APP

    clock = provide(SystemClock, provides=Clock)

    @provide
    def email_transport(self, settings: Settings) -> EmailTransport:
        if settings.email_backend == "smtp" and settings.smtp_host:
            return SmtpEmailTransport(
                settings.smtp_host,
                settings.smtp_port,
                settings.email_from,
                settings.smtp_username,
                settings.smtp_password,
                settings.smtp_starttls,
            )
        return LogEmailTransport()


class SecurityAdapters(Provider):
    """Password hashing, access and device tokens, the keyring."""

    scope = Scope.APP

    @provide
    def hasher(self, settings: Settings) -> PasswordHasher:
        return Argon2PasswordHasher(
            settings.argon2_memory_kib, settings.argon2_time_cost, settings.password_hash_concurrency
        )

    @provide
    def access_tokens(self, settings: Settings) -> AccessTokenIssuer:
        return JwtAccessTokenIssuer(
            settings.secret_key,
            settings.jwt_audience,
            settings.jwt_issuer,
            timedelta(minutes=settings.access_token_minutes),
        )

    @provide
    def device_tokens(self, settings: Settings) -> DeviceTokens:
        return HmacDeviceTokens(settings.secret_key)

    @provide
    def cursor_seal(self, settings: Settings) -> CursorSeal:
        return HmacCursorSeal(settings.secret_key)

    @provide
    def secret_box(self, settings: Settings) -> SecretBox:
        return secret_box_from_settings(settings)


class ProcessingAdapters(Provider):
    """AI providers, their health, transcript sources, language identification, and the processing policy."""

    scope = Scope.APP

    @provide
    async def catalog(self, settings: Settings) -> AsyncIterator[ProviderCatalog]:
        catalog, closers = build_catalog(settings)
        yield catalog
        for close in closers:
            await close()

    @provide
    def breaker(self, settings: Settings) -> CircuitBreaker:
        return InMemoryCircuitBreaker(
            settings.ai_breaker_failures, settings.ai_breaker_cooldown_seconds, settings.ai_timeout_seconds + 5
        )

    @provide
    def stats(self, settings: Settings, redis: Redis | None) -> ProviderStats:
        if redis is None:
            return InMemoryProviderStats(settings.ai_stats_window_seconds)
        return RedisProviderStats(redis, settings.redis_prefix, settings.ai_stats_window_seconds)

    @provide
    def runner(
        self, settings: Settings, catalog: ProviderCatalog, breaker: CircuitBreaker, stats: ProviderStats
    ) -> OutputRunner:
        return OutputRunner(
            catalog,
            breaker,
            stats,
            settings.ai_max_output_tokens,
            settings.ai_map_concurrency,
            settings.ai_request_budget_seconds,
        )

    @provide
    def policy(self, settings: Settings) -> ProcessingPolicy:
        anonymous = TierLimits(settings.anonymous_requests_per_window, settings.anonymous_window_seconds)
        tiers = {
            tier.value: TierLimits(
                getattr(settings, f"tier_{tier}_requests_per_minute"),
                60,
                getattr(settings, f"tier_{tier}_jobs_per_day"),
            )
            for tier in Tier
        }
        return ProcessingPolicy(settings.allows_anonymous_processing, {ANONYMOUS: anonymous, **tiers})

    @provide
    def transcripts(self, settings: Settings) -> TranscriptSource:
        return YouTubeTranscriptSource(settings.youtube_base_url, settings.youtube_timeout_seconds)

    history = provide(SqlHistoryRepository, provides=HistoryRepository, scope=Scope.REQUEST)
    history_store = provide(SqlHistoryRepository, provides=HistoryStore, scope=Scope.REQUEST)
    pdf = provide(PdfHistoryRenderer, provides=HistoryPdfRenderer, scope=Scope.APP)
    languages = provide(Py3LangidIdentifier, provides=LanguageIdentifier)


@dataclass(frozen=True, slots=True)
class BackgroundLoops:
    """What runs beside the server: keeping shared state in step with other processes, with Redis flushing the
    provider stats, and when the offline provider serves the default chain, loading its language data once."""

    loops: tuple[Callable[[], Coroutine[Any, Any, None]], ...]


class BackgroundProvider(Provider):
    scope = Scope.APP

    @provide
    def loops(self, sync: StateSync, stats: ProviderStats, catalog: ProviderCatalog) -> BackgroundLoops:
        flush = (stats.run,) if isinstance(stats, RedisProviderStats) else ()
        local = catalog.adapters.get("local")
        warm = (local.warm_up,) if isinstance(local, LocalProvider) and "local" in catalog.default_chain else ()
        return BackgroundLoops((sync.run, *flush, *warm))


ADAPTERS = (
    DatabaseAdapters,
    SharedStateAdapters,
    SystemAdapters,
    SecurityAdapters,
    ProcessingAdapters,
    BackgroundProvider,
)


def make_container(settings: Settings, *extra: Provider) -> AsyncContainer:
    """`extra`: the web app's request context, or a test's fakes; later providers override earlier ones."""
    return make_async_container(
        PolicyProvider(),
        *(adapters() for adapters in ADAPTERS),
        UseCaseProvider(),
        *extra,
        context={Settings: settings},
    )
