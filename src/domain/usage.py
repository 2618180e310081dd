"""Usage: what a user's requests cost, one event per counted action."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UsageEvent:
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str  # e.g. "process"; AI jobs record themselves once processing lands
    provider: str | None
    model: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    cached: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UsageSummary:
    usage_count: int
    events_total: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    since: datetime | None
