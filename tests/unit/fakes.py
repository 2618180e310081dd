"""In-memory fakes of the ports, for use-case tests. They keep the contracts the SQL adapters keep."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from application.access import ProcessingPolicy
from application.accounts.ports import StoredProviderKey
from application.accounts.provider_keys import ProviderKeyPolicy
from application.auth.policy import AuthPolicy
from application.errors import AuthenticationFailed, ProviderFailure, ProviderKeyRejected
from application.history import HistoryFilters, HistoryPage, HistoryPageRequest, HistoryPosition
from application.limits import ANONYMOUS, TierLimits
from application.pagination import Cursor, Page, PageRequest
from application.ports import (
    AccessClaims,
    EmailMessage,
    IssuedAccessToken,
    PasswordResetRecord,
    PendingRevocation,
    QueuedEmail,
)
from application.processing.catalog import ProviderCatalog, ProviderProfile
from application.processing.ports import ApiKey, Generation, GenerationRequest
from application.processing.result_cache import ResultCachePolicy
from domain.api_tokens import ApiToken
from domain.history import HistoryEntry
from domain.search import searchable_text
from domain.sessions import AuthSession, RefreshToken
from domain.transcripts import Segment, Transcript, VideoRef
from domain.usage import Payer, Spend, UsageEvent, UsageSummary
from domain.users import EmailTaken, User
from infrastructure.ai.circuit_breaker import InMemoryCircuitBreaker
from infrastructure.ai.provider_stats import InMemoryProviderStats
from infrastructure.cache.memory import InMemoryResultStore, InProcessSingleFlight
from infrastructure.security.cursor_seal import HmacCursorSeal
from infrastructure.security.device_tokens import HmacDeviceTokens
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.state.memory import (
    InMemoryAttemptCounter,
    InMemoryRateLimiter,
    InMemoryRefusalLog,
    InMemoryUserCache,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

    def monotonic(self) -> float:
        """Seconds since T0: the circuit breaker's and the provider stats' clock, moved by `advance` too."""
        return (self.current - T0).total_seconds()


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.commits = 0
        self.rollbacks = 0

    async def commit(self) -> None:
        self.commits += 1

    async def rollback(self) -> None:
        self.rollbacks += 1


class FakeHasher:
    """Reversible on purpose: tests can see what was hashed. Never used outside tests."""

    async def hash(self, password: str) -> str:
        return f"hashed:{password}"

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return password_hash == f"hashed:{password}"

    def needs_rehash(self, password_hash: str) -> bool:
        return False


def _page(items: list, page: PageRequest) -> Page:  # type: ignore[type-arg]
    ordered = sorted(items, key=lambda x: (x.created_at, x.id), reverse=True)
    if page.after:
        ordered = [x for x in ordered if (x.created_at, x.id) < (page.after.created_at, page.after.id)]
    chunk = ordered[: page.limit]
    more = len(ordered) > page.limit
    return Page(chunk, Cursor(chunk[-1].created_at, chunk[-1].id).encode() if more else None)


class FakeIssuer:
    """Opaque access tokens whose expiry follows the fake clock (a JWT's follows the wall clock)."""

    def __init__(self, clock: FakeClock, lifetime: timedelta = timedelta(minutes=15)) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self.claims: dict[str, AccessClaims] = {}

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> IssuedAccessToken:
        token = f"access-{uuid.uuid4().hex}"
        self.claims[token] = AccessClaims(user_id, session_id, uuid.uuid4().hex, now, now + self._lifetime)
        return IssuedAccessToken(token, now + self._lifetime)

    def decode(self, token: str) -> AccessClaims:
        claims = self.claims.get(token)
        if claims is None or self._clock.now() >= claims.expires_at:
            raise AuthenticationFailed("fake_invalid")
        return claims


class FakeRevokedSessions:
    """`reachable` False: the other processes cannot be told (Redis is down); this one still refuses at once."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.until: dict[uuid.UUID, datetime] = {}
        self.announced: list[uuid.UUID] = []
        self.reachable = True

    async def revoke(self, session_id: uuid.UUID, until: datetime) -> bool:
        self.until[session_id] = until
        if self.reachable:
            self.announced.append(session_id)
        return self.reachable

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        return session_id in self.until and self.until[session_id] > self._clock.now()


class InMemoryUsers:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, User] = {}

    async def get(self, user_id: uuid.UUID) -> User | None:
        return self.rows.get(user_id)

    async def lock(self, user_id: uuid.UUID) -> User | None:
        return self.rows.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.rows.values() if u.email == email), None)

    async def add(self, user: User) -> None:
        if await self.get_by_email(user.email):
            raise EmailTaken
        self.rows[user.id] = user

    async def update(self, user: User) -> None:
        self.rows[user.id] = user

    async def delete(self, user_id: uuid.UUID) -> None:
        self.rows.pop(user_id, None)

    async def list(self, page: PageRequest) -> Page[User]:
        return _page(list(self.rows.values()), page)


class InMemorySessions:
    def __init__(self) -> None:
        self.sessions: dict[uuid.UUID, AuthSession] = {}
        self.tokens: dict[uuid.UUID, RefreshToken] = {}

    async def add(self, session: AuthSession) -> None:
        self.sessions[session.id] = session

    async def get(self, session_id: uuid.UUID) -> AuthSession | None:
        return self.sessions.get(session_id)

    async def revoke(self, session_id: uuid.UUID, now: datetime) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = self.sessions[session_id].revoked(now)

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        for s in list(self.sessions.values()):
            if s.user_id == user_id:
                await self.revoke(s.id, now)

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self.tokens[token.id] = token

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        return next((t for t in self.tokens.values() if t.token_hash == token_hash), None)

    async def mark_refresh_token_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        token = self.tokens[token_id]
        if token.used_at is not None:
            return False
        self.tokens[token_id] = replace(token, used_at=now)
        return True


class InMemoryResets:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, PasswordResetRecord] = {}

    async def add(self, record: PasswordResetRecord) -> None:
        self.rows[record.id] = record

    async def find(self, token_hash: str) -> PasswordResetRecord | None:
        return next((r for r in self.rows.values() if r.token_hash == token_hash), None)

    async def mark_used(self, record_id: uuid.UUID, now: datetime) -> bool:
        if self.rows[record_id].used_at is not None:
            return False
        self.rows[record_id] = replace(self.rows[record_id], used_at=now)
        return True

    async def expire_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        for r in list(self.rows.values()):
            if r.user_id == user_id and r.used_at is None and r.expires_at > now:
                self.rows[r.id] = replace(r, expires_at=now)


class InMemoryApiTokens:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, ApiToken] = {}

    async def add(self, token: ApiToken) -> None:
        self.rows[token.id] = token

    async def find(self, token_hash: str) -> ApiToken | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    async def get_for_user(self, token_id: uuid.UUID, user_id: uuid.UUID) -> ApiToken | None:
        token = self.rows.get(token_id)
        return token if token and token.user_id == user_id else None

    async def list_for_user(self, user_id: uuid.UUID, page: PageRequest) -> Page[ApiToken]:
        return _page([t for t in self.rows.values() if t.user_id == user_id], page)

    async def update(self, token: ApiToken) -> None:
        self.rows[token.id] = token

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None:
        for token in list(self.rows.values()):
            if token.user_id == user_id:
                self.rows[token.id] = token.revoked(now)


class FakeAccountReader:
    """Reads the same in-memory stores the repositories write."""

    def __init__(self, users: InMemoryUsers, tokens: InMemoryApiTokens) -> None:
        self._users = users
        self._tokens = tokens

    async def user(self, user_id: uuid.UUID) -> User | None:
        return await self._users.get(user_id)

    async def api_token(self, token_hash: str) -> ApiToken | None:
        return await self._tokens.find(token_hash)

    async def record_api_token_use(self, token_id: uuid.UUID, now: datetime) -> None:
        await self._tokens.update(self._tokens.rows[token_id].touched(now))


class InMemoryUsage:
    def __init__(self, users: InMemoryUsers) -> None:
        self.events: list[UsageEvent] = []
        self._users = users

    async def add_job(self, user_id: uuid.UUID, events: Sequence[UsageEvent]) -> None:
        self.events.extend(events)
        user = self._users.rows[user_id]
        self._users.rows[user.id] = replace(user, usage_count=user.usage_count + 1)

    async def summary(self, user_id: uuid.UUID) -> UsageSummary:
        mine = [e for e in self.events if e.user_id == user_id]
        by_payer: dict[Payer, Spend] = {}
        for event in mine:
            if event.payer is not None:
                by_payer[event.payer] = by_payer.get(event.payer, Spend()) + event.spend
        return UsageSummary(
            self._users.rows[user_id].usage_count,
            len(mine),
            Spend.total(e.spend for e in mine),
            min((e.created_at for e in mine), default=None),
            by_payer,
        )


class InMemoryOutbox:
    def __init__(self) -> None:
        self.queued: dict[uuid.UUID, QueuedEmail] = {}
        self.sent: list[EmailMessage] = []
        self.retries: list[datetime | None] = []  # when each failed message was to be tried again; None: given up

    async def enqueue(self, message: EmailMessage, now: datetime) -> None:
        ident = uuid.uuid4()
        self.queued[ident] = QueuedEmail(ident, message, 0)

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> Sequence[QueuedEmail]:
        return list(self.queued.values())[:limit]

    async def mark_sent(self, email_id: uuid.UUID, now: datetime) -> None:
        self.sent.append(self.queued.pop(email_id).message)

    async def mark_failed(self, email_id: uuid.UUID, error: str, retry_at: datetime | None) -> None:
        q = self.queued.pop(email_id)
        self.retries.append(retry_at)
        if retry_at is not None:
            self.queued[email_id] = replace(q, attempts=q.attempts + 1)


class InMemoryRevocationOutbox:
    def __init__(self) -> None:
        self.pending: dict[uuid.UUID, PendingRevocation] = {}
        self.due: dict[uuid.UUID, datetime] = {}

    async def enqueue(self, session_id: uuid.UUID, until: datetime, now: datetime) -> None:
        revocation = PendingRevocation(uuid.uuid4(), session_id, until, 0)
        self.pending[revocation.id] = revocation
        self.due[revocation.id] = now

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> Sequence[PendingRevocation]:
        claimed = [p for p in self.pending.values() if self.due[p.id] <= now][:limit]
        for p in claimed:
            self.due[p.id] = now + lease
        return claimed

    async def announced(self, revocation_id: uuid.UUID) -> None:
        del self.pending[revocation_id]

    async def retry_later(self, revocation_id: uuid.UUID, retry_at: datetime) -> None:
        p = self.pending[revocation_id]
        self.pending[revocation_id] = replace(p, attempts=p.attempts + 1)
        self.due[revocation_id] = retry_at


class InMemoryHistory:
    def __init__(self) -> None:
        self.entries: list[HistoryEntry] = []

    async def add(self, entry: HistoryEntry) -> None:
        self.entries.append(entry)

    async def list_for_user(self, user_id: uuid.UUID, filters: HistoryFilters, page: HistoryPageRequest) -> HistoryPage:
        """Filters and keyset like the SQL store; full text by substring, newest first (no relevance)."""
        found = sorted(
            (
                e
                for e in self._selected(user_id, filters)
                if page.after is None or (e.created_at, e.id) < (page.after.created_at, page.after.id)
            ),
            key=lambda e: (e.created_at, e.id),
            reverse=True,
        )
        shown = found[: page.limit]
        last = shown[-1] if len(found) > page.limit else None
        return HistoryPage(shown, HistoryPosition(last.created_at, last.id) if last else None)

    async def count_for_user(self, user_id: uuid.UUID, filters: HistoryFilters) -> int:
        return len(self._selected(user_id, filters))

    def _selected(self, user_id: uuid.UUID, filters: HistoryFilters) -> list[HistoryEntry]:
        wanted = {
            "purpose": filters.purpose,
            "language": filters.language,
            "provider": filters.provider,
            "model": filters.model,
            "video_id": filters.video_id,
            "cached": filters.cached,
        }

        def matches(e: HistoryEntry) -> bool:
            text = searchable_text(*e.searchable_fields().values())
            return (
                e.user_id == user_id
                and all(v is None or getattr(e, k) == v for k, v in wanted.items())
                and (filters.since is None or e.created_at >= filters.since)
                and (filters.before is None or e.created_at < filters.before)
                and all(term in text for term in filters.terms)
            )

        return [e for e in self.entries if matches(e)]

    async def get_for_user(self, entry_id: uuid.UUID, user_id: uuid.UUID) -> HistoryEntry | None:
        return next((e for e in self.entries if e.id == entry_id and e.user_id == user_id), None)

    async def delete_for_user(self, entry_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        before = len(self.entries)
        self.entries = [e for e in self.entries if not (e.id == entry_id and e.user_id == user_id)]
        return len(self.entries) < before

    async def delete_all_for_user(self, user_id: uuid.UUID) -> int:
        before = len(self.entries)
        self.entries = [e for e in self.entries if e.user_id != user_id]
        return before - len(self.entries)


class FakePdfRenderer:
    """Stands for the PDF adapter: a recognisable stand-in document that names its entry."""

    async def render(self, entry: HistoryEntry) -> bytes:
        return f"%PDF-fake {entry.id} {entry.title}".encode()


class RecordingTransport:
    """An e-mail transport that keeps what it was given."""

    def __init__(self) -> None:
        self.delivered: list[EmailMessage] = []

    async def deliver(self, message: EmailMessage) -> None:
        self.delivered.append(message)


class FixedTranscriptSource:
    """Every video has the same captions: a 50-minute lecture, one caption every ten seconds."""

    def __init__(self) -> None:
        self.transcript = Transcript.from_segments(
            [Segment(i * 10.0, 10.0, f"Part {i} of the lecture about photosynthesis and light.") for i in range(300)],
            "youtube",
            video=VideoRef("dQw4w9WgXcQ"),
            title="Photosynthesis",
        )

    async def fetch(self, video: VideoRef, language: str) -> Transcript:
        return self.transcript


class FixedLanguage:
    """Identifies every text as one language, as a test says."""

    def __init__(self, code: str | None = "en") -> None:
        self.code = code

    def identify(self, text: str) -> str | None:
        return self.code


class InMemoryProviderKeys:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, list[StoredProviderKey]] = {}

    async def list(self, user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
        return sorted(self.rows.get(user_id, []), key=lambda k: k.provider)

    async def lock(self, user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
        return await self.list(user_id)

    async def replace(self, user_id: uuid.UUID, keys: Sequence[StoredProviderKey]) -> None:
        if keys:
            self.rows[user_id] = list(keys)
        else:
            self.rows.pop(user_id, None)

    async def users_with_keys(self, after: uuid.UUID | None, limit: int) -> Sequence[uuid.UUID]:
        return sorted(u for u in self.rows if after is None or u > after)[:limit]


class KeyCheckingProvider:
    """An LLM provider that only checks keys: "good-..." is accepted, anything else rejected; set `failure` to
    make it unreachable."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failure: ProviderFailure | None = None
        self.checks = 0

    async def generate(self, request: GenerationRequest, model: str, key: ApiKey | None) -> Generation:
        raise ProviderFailure(self.name, "bad_request", "this fake only checks keys")

    async def check_key(self, secret: str) -> None:
        self.checks += 1
        if self.failure is not None:
            raise self.failure
        if not secret.startswith("good-"):
            raise ProviderKeyRejected(self.name)


def key_checking_catalog() -> ProviderCatalog:
    """anthropic and openai take users' keys (through KeyCheckingProviders); local takes none."""
    adapters = {name: KeyCheckingProvider(name) for name in ("anthropic", "openai", "local")}
    profiles = {name: ProviderProfile(name, (f"{name}-model",), False, 100_000) for name in adapters}
    return ProviderCatalog(profiles, adapters, ("local",))


def unit_tiers(**changes: TierLimits) -> dict[str, TierLimits]:
    """2 anonymous requests per address, so that tests reach the limit; quotas only where a test sets them."""
    return {
        ANONYMOUS: TierLimits(2, 900),
        "free": TierLimits(100, 60),
        "byok": TierLimits(100, 60),
        "pro": TierLimits(None, 60, jobs_per_day=100),
        "admin": TierLimits(None, 60),
        **changes,
    }


@dataclass
class World:
    """Everything a use case may need, in memory, sharing one clock. tests/unit/container.py hands these to the
    production use-case provider; replace a field before the first use case is called to change an adapter."""

    clock: FakeClock = field(default_factory=FakeClock)
    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)
    users: InMemoryUsers = field(default_factory=InMemoryUsers)
    sessions: InMemorySessions = field(default_factory=InMemorySessions)
    resets: InMemoryResets = field(default_factory=InMemoryResets)
    api_tokens: InMemoryApiTokens = field(default_factory=InMemoryApiTokens)
    outbox: InMemoryOutbox = field(default_factory=InMemoryOutbox)
    revocations: InMemoryRevocationOutbox = field(default_factory=InMemoryRevocationOutbox)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    revoked: FakeRevokedSessions = field(init=False)
    accounts: FakeAccountReader = field(init=False)
    attempts: InMemoryAttemptCounter = field(default_factory=InMemoryAttemptCounter)
    cache: InMemoryUserCache = field(default_factory=lambda: InMemoryUserCache(60))
    policy: AuthPolicy = field(default_factory=AuthPolicy)
    devices: HmacDeviceTokens = field(default_factory=lambda: HmacDeviceTokens("unit-test-secret-key"))
    cursor_seal: HmacCursorSeal = field(default_factory=lambda: HmacCursorSeal("unit-test-secret-key"))
    issuer: FakeIssuer = field(init=False)
    usage: InMemoryUsage = field(init=False)
    transport: RecordingTransport = field(default_factory=RecordingTransport)
    provider_keys: InMemoryProviderKeys = field(default_factory=InMemoryProviderKeys)
    box: AesGcmSecretBox = field(default_factory=lambda: AesGcmSecretBox({"v1": os.urandom(32)}))
    catalog: ProviderCatalog = field(default_factory=key_checking_catalog)
    breaker: InMemoryCircuitBreaker = field(init=False)
    stats: InMemoryProviderStats = field(init=False)
    history: InMemoryHistory = field(default_factory=InMemoryHistory)
    pdf: FakePdfRenderer = field(default_factory=FakePdfRenderer)
    transcripts: FixedTranscriptSource = field(default_factory=FixedTranscriptSource)
    languages: FixedLanguage = field(default_factory=FixedLanguage)
    processing: ProcessingPolicy = field(default_factory=lambda: ProcessingPolicy(True, unit_tiers()))
    limiter: InMemoryRateLimiter = field(init=False)
    refusals: InMemoryRefusalLog = field(init=False)
    provider_key_policy: ProviderKeyPolicy = field(default_factory=ProviderKeyPolicy)
    results: InMemoryResultStore = field(init=False)
    flights: InProcessSingleFlight = field(default_factory=InProcessSingleFlight)
    # Off, as in tests/conftest.py: most tests repeat identical requests to watch providers; the cache's own turn it on.
    result_cache: ResultCachePolicy = field(default_factory=lambda: ResultCachePolicy(ttl_seconds=0))
    # The OutputRunner's limits, as the settings give them in production.
    max_output_tokens: int = 1000
    map_concurrency: int = 2
    request_budget_seconds: float = 60.0

    def __post_init__(self) -> None:
        self.issuer = FakeIssuer(self.clock)
        self.usage = InMemoryUsage(self.users)
        self.revoked = FakeRevokedSessions(self.clock)
        self.accounts = FakeAccountReader(self.users, self.api_tokens)
        # Two failures in a row keep a provider aside for a minute of the fake clock.
        self.breaker = InMemoryCircuitBreaker(failures=2, cooldown=60, clock=self.clock.monotonic)
        self.stats = InMemoryProviderStats(3600, clock=self.clock.monotonic)
        self.results = InMemoryResultStore(clock=self.clock.monotonic, wall_clock=lambda: self.clock.now().timestamp())
        self.limiter = InMemoryRateLimiter(clock=self.clock.monotonic)
        self.refusals = InMemoryRefusalLog(clock=lambda: self.clock.now().timestamp())
