"""Errors the use cases raise (as opposed to the domain's rules).

Every use case a driver calls lists the errors (these and the domain's) it may raise in a `raises` class attribute:
the HTTP API documents each route's error responses from it."""

from __future__ import annotations

from domain.errors import ScribeError


class ApplicationError(ScribeError):
    """Base for failures of a use case that are not a broken domain rule."""


class AuthenticationFailed(ApplicationError):
    """Missing, malformed, expired or revoked credentials. One message for all: no oracle."""

    def __init__(self, reason: str = "invalid_token") -> None:
        super().__init__("Authentication required: the credentials are missing, invalid or expired")
        self.reason = reason  # for logs and tests, never shown to the client


class InvalidCredentials(ApplicationError):
    def __init__(self) -> None:
        super().__init__("Invalid e-mail or password")


class PermissionDenied(ApplicationError):
    def __init__(self, message: str = "You do not have permission to do this") -> None:
        super().__init__(message)


class NotFound(ApplicationError):
    def __init__(self, what: str = "Resource") -> None:
        super().__init__(f"{what} not found")


class TooManyAttempts(ApplicationError):
    def __init__(
        self,
        retry_after: int,
        limit: int | None = None,
        resets_in: int | None = None,
        message: str = "Too many attempts; try again later",
    ) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.limit = limit  # the attempts allowed per window, for `RateLimit-*` headers
        self.resets_in = max(self.retry_after, resets_in or 0)  # until the whole allowance is back


class RateLimited(TooManyAttempts):
    """The caller's tier allows fewer requests than this."""

    def __init__(self, retry_after: int, limit: int, resets_in: int) -> None:
        super().__init__(retry_after, limit, resets_in, "Too many requests; slow down and try again later")


class QuotaExceeded(TooManyAttempts):
    """Today's jobs on the server's keys are used up (jobs on the user's own keys are not counted)."""

    def __init__(self, jobs_per_day: int, resets_in: int) -> None:
        super().__init__(
            resets_in,
            jobs_per_day,
            resets_in,
            f"Your {jobs_per_day} jobs a day on the server's AI keys are used up; store your own provider key "
            "(PUT /api/v1/me/api-keys/{provider}) or try again after the daily reset",
        )


class ServiceBusy(ApplicationError):
    """Too much work queued (e.g. password hashing); the client should retry shortly."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("The service is busy; try again shortly")
        self.retry_after = retry_after


class InvalidResetToken(ApplicationError):
    def __init__(self) -> None:
        super().__init__("The password reset link is invalid, expired or already used")


class InvalidCursor(ApplicationError):
    def __init__(self) -> None:
        super().__init__("The pagination cursor is invalid")


class ProviderFailure(ApplicationError):
    """An AI provider call failed. `kind`: timeout | rate_limited | unavailable | connection | rejected_key |
    bad_request | invalid_output | out_of_time (the request's time budget ended first). The message never holds
    a key."""

    TRIPPING = frozenset({"timeout", "rate_limited", "unavailable", "connection", "rejected_key"})

    def __init__(self, provider: str, kind: str, detail: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"{provider}: {kind}" + (f" ({detail})" if detail else ""))
        self.provider = provider
        self.kind = kind
        self.retry_after = retry_after

    @property
    def trips_breaker(self) -> bool:
        """Failures that will repeat for the next request with the same key (the provider is unwell, or the key
        is dead), as opposed to this one request being refused."""
        return self.kind in self.TRIPPING


class TranscriptSourceUnreachable(ApplicationError):
    """YouTube did not answer, or answered with something we cannot read: an outage, not a fact about the video."""

    def __init__(self) -> None:
        super().__init__("YouTube could not be reached or refused the request; try again later")


class ProviderKeyRejected(ApplicationError):
    def __init__(self, provider: str) -> None:
        super().__init__(f"{provider} rejected this API key")
        self.provider = provider


class SecretUnreadable(ApplicationError):
    """A sealed secret failed authentication: altered, moved to another user/provider, or its master key is gone."""

    def __init__(self) -> None:
        super().__init__("A stored secret could not be decrypted")
