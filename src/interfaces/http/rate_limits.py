"""Rate-limit headers: the IETF draft's `RateLimit-*` and the prototype's `X-RateLimit-*` (express-rate-limit's
legacy form, which its clients read), from the limits a request was counted against."""

from __future__ import annotations

import time

from application.limits import LimitStatus

RATE_LIMIT_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]


def rate_limit_headers(limit: int, remaining: int, resets_in: int) -> dict[str, str]:
    """`RateLimit-Reset` counts seconds from now; the prototype's `X-RateLimit-Reset` is a Unix time."""
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(resets_in),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(time.time()) + resets_in),
    }


def limit_headers(status: LimitStatus) -> dict[str, str]:
    """The tightest rate the request was weighed against, or nothing when none was (an unlimited tier)."""
    tightest = status.tightest
    if tightest is None:
        return {}
    return rate_limit_headers(tightest.limit, tightest.remaining, tightest.reset_seconds)
