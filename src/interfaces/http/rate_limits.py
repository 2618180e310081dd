"""Rate-limit headers: the IETF draft's `RateLimit-*` and the prototype's `X-RateLimit-*` (express-rate-limit's
legacy form, which its clients read), from the limits a request was counted against."""

from __future__ import annotations

import time
from collections.abc import Sequence

from application.access import Quota

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


def quota_headers(quotas: Sequence[Quota]) -> dict[str, str]:
    """The tightest of the limits counted, or nothing when none was (a signed-in caller)."""
    if not quotas:
        return {}
    tightest = min(quotas, key=lambda q: (q.remaining, -q.resets_in))
    return rate_limit_headers(tightest.limit.max_attempts, tightest.remaining, tightest.resets_in)
