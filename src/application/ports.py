"""Ports: what the use cases need from the outside world, named by the role they play."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from application.pagination import Page, PageRequest
from domain.api_tokens import ApiToken
from domain.sessions import AuthSession, RefreshToken
from domain.usage import UsageEvent, UsageSummary
from domain.users import User


class Clock(Protocol):
    def now(self) -> datetime: ...


class UnitOfWork(Protocol):
    """The transaction of one use case. Nothing is stored until `commit`."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None:
        """End the transaction so far without writing, and give its connection back: before slow work (a minute
        of provider calls must not hold a database connection); the next read starts a new one."""


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def lock(self, user_id: uuid.UUID) -> User | None:
        """The current stored user, held against concurrent writers until commit. Use cases that change a
        user start from this, never from a cached copy, so they cannot write stale fields back."""

    async def get_by_email(self, email: str) -> User | None: ...

    async def add(self, user: User) -> None:
        """Raises EmailTaken when the address is already registered (checked by the store, race-free)."""

    async def update(self, user: User) -> None: ...

    async def delete(self, user_id: uuid.UUID) -> None:
        """The user and everything of theirs: sessions, tokens, keys, usage and history go with the row."""

    async def list(self, page: PageRequest) -> Page[User]: ...


class SessionRepository(Protocol):
    async def add(self, session: AuthSession) -> None: ...

    async def get(self, session_id: uuid.UUID) -> AuthSession | None: ...

    async def revoke(self, session_id: uuid.UUID, now: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None: ...

    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_refresh_token_used(self, token_id: uuid.UUID, now: datetime) -> bool:
        """Atomically claim an unused token; False when another request already used it."""


@dataclass(frozen=True, slots=True)
class PasswordResetRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class PasswordResetRepository(Protocol):
    async def add(self, record: PasswordResetRecord) -> None: ...

    async def find(self, token_hash: str) -> PasswordResetRecord | None: ...

    async def mark_used(self, record_id: uuid.UUID, now: datetime) -> bool:
        """Atomically claim an unused reset token; False when it was already used."""

    async def expire_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None: ...


class ApiTokenRepository(Protocol):
    async def add(self, token: ApiToken) -> None: ...

    async def find(self, token_hash: str) -> ApiToken | None: ...

    async def get_for_user(self, token_id: uuid.UUID, user_id: uuid.UUID) -> ApiToken | None: ...

    async def list_for_user(self, user_id: uuid.UUID, page: PageRequest) -> Page[ApiToken]: ...

    async def update(self, token: ApiToken) -> None: ...

    async def revoke_all_for_user(self, user_id: uuid.UUID, now: datetime) -> None: ...


class UsageRepository(Protocol):
    async def add_job(self, user_id: uuid.UUID, events: Sequence[UsageEvent]) -> None:
        """One job's events (one per provider, model and payer), and one more on the user's usage_count, counted
        in the store (concurrent jobs must not lose counts)."""

    async def summary(self, user_id: uuid.UUID) -> UsageSummary: ...


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class QueuedEmail:
    id: uuid.UUID
    message: EmailMessage
    attempts: int


class EmailOutbox(Protocol):
    """Mail written in the same transaction as the change that caused it; delivered after commit."""

    async def enqueue(self, message: EmailMessage, now: datetime) -> None: ...

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> Sequence[QueuedEmail]:
        """Due messages, each leased to this caller alone until `now + lease` (another process skips them;
        if this one dies, they come due again when the lease ends)."""

    async def mark_sent(self, email_id: uuid.UUID, now: datetime) -> None:
        """Also drops the body: it may hold a secret (a reset link) that must not outlive delivery."""

    async def mark_failed(self, email_id: uuid.UUID, error: str, retry_at: datetime | None) -> None:
        """Counts the failed attempt and keeps its error; the message comes due again at `retry_at`, or never
        when it is None (given up on)."""


class EmailTransport(Protocol):
    async def deliver(self, message: EmailMessage) -> None: ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """With no hash (unknown user) it spends the same time and answers False."""

    def needs_rehash(self, password_hash: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    jti: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    expires_at: datetime


class AccessTokenIssuer(Protocol):
    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> IssuedAccessToken: ...

    def decode(self, token: str) -> AccessClaims:
        """Raises AuthenticationFailed for anything but a valid, unexpired access token of ours."""


class RevokedSessions(Protocol):
    """Sessions ended before their access tokens expire (logout, stolen refresh token): every access token
    of such a session is refused at once. The database's `auth_sessions.revoked_at` is the truth; this is
    each API process's fast copy of it, which answers from the database whenever it may be incomplete."""

    async def revoke(self, session_id: uuid.UUID, until: datetime) -> bool:
        """Refused in this process at once, and announced to the others. False when they could not be told
        now: the revocation must then be in the RevocationOutbox (written with it), whose relay tells them."""

    async def is_revoked(self, session_id: uuid.UUID) -> bool: ...


@dataclass(frozen=True, slots=True)
class PendingRevocation:
    id: uuid.UUID
    session_id: uuid.UUID
    until: datetime
    attempts: int


class RevocationOutbox(Protocol):
    """Session revocations written in the transaction that revokes the session, announced after commit (again
    by a relay when the announcement failed or the process died before making it)."""

    async def enqueue(self, session_id: uuid.UUID, until: datetime, now: datetime) -> None: ...

    async def claim(self, limit: int, now: datetime, lease: timedelta) -> Sequence[PendingRevocation]:
        """Due revocations, each leased to this caller alone until `now + lease`."""

    async def announced(self, revocation_id: uuid.UUID) -> None: ...

    async def retry_later(self, revocation_id: uuid.UUID, retry_at: datetime) -> None:
        """Counts the failed announcement; the revocation comes due again at `retry_at`."""


class AttemptCounter(Protocol):
    """Counts attempts per key in a fixed window. Shared by every API process."""

    async def increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one attempt; returns (attempts in the current window, seconds until it resets)."""

    async def release(self, key: str) -> None:
        """Take back one increment (never below zero)."""

    async def count(self, key: str) -> int:
        """Attempts in the current window (0 when none)."""

    async def reset(self, key: str) -> None: ...


class DeviceTokens(Protocol):
    """Signed tokens given to a client when it logs in, by which it later proves it logged in to that
    account before (OWASP's device cookies): such a client keeps its own allowance of failed logins."""

    def issue(self, account: str) -> str: ...

    def is_valid(self, token: str, account: str) -> bool: ...


class UserCache(Protocol):
    """A short-lived copy of user records and of what belongs to them (their API tokens, whether they stored
    provider keys), so authenticating a request rarely reads the database. Each copy lives as long as a user
    copy and goes with its user's invalidation."""

    def get(self, user_id: uuid.UUID) -> User | None: ...

    def mark(self) -> int:
        """Taken before reading a user from storage, handed to `put`."""

    def put(self, user: User, mark: int) -> None:
        """Keeps `user` unless an invalidation happened since `mark` (the copy read may be older than it)."""

    def api_token(self, token_hash: str) -> ApiToken | None: ...

    def put_api_token(self, token: ApiToken, mark: int) -> None:
        """As `put`; the token goes when its user is invalidated (revoking a token invalidates its user)."""

    def has_no_provider_keys(self, user_id: uuid.UUID) -> bool:
        """True only when a read since the last invalidation found that the user stored no provider key."""

    def put_no_provider_keys(self, user_id: uuid.UUID, mark: int) -> None: ...

    async def invalidate(self, user_id: uuid.UUID) -> None:
        """Drop the copies here and in every other process that shares the cache's invalidations."""


class AccountReader(Protocol):
    """The reads that authenticate a request, each in its own short transaction: a request whose user is
    cached touches no database at all."""

    async def user(self, user_id: uuid.UUID) -> User | None: ...

    async def api_token(self, token_hash: str) -> ApiToken | None: ...

    async def record_api_token_use(self, token_id: uuid.UUID, now: datetime) -> None: ...
