"""Usage: what a user's requests cost, who paid for it, and which provider served each output."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Spend:
    """Tokens in and out of upstream calls and what they cost. `tokens_cached` are the input tokens a provider read
    from its prompt cache: part of `tokens_in`, billed at its discount."""

    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    tokens_cached: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            self.cost_usd + other.cost_usd,
            self.tokens_cached + other.tokens_cached,
        )

    @property
    def tokens_total(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def rounded(self) -> Spend:
        """Cost to a millionth of a dollar, as stored and shown (sums are taken before rounding)."""
        return Spend(self.tokens_in, self.tokens_out, round(self.cost_usd, 6), self.tokens_cached)

    @staticmethod
    def total(spends: Iterable[Spend]) -> Spend:
        result = Spend()
        for spend in spends:
            result += spend
        return result


class Payer(StrEnum):
    """Whose key an upstream call was made with: the user's own, the server's, or nobody's (the offline provider)."""

    USER_KEY = "user_key"
    SERVER_KEY = "server_key"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One provider tried for an output; or, in `Attribution.shared` and `.combined`, calls made once for several
    outputs."""

    provider: str
    model: str
    payer: Payer
    outcome: str  # "served", or why it was left: a provider failure kind, "invalid_output", "cooling_down"
    calls: int  # upstream calls made for this output alone, re-asks and cancelled ones included
    spend: Spend  # of those calls
    # Calls that asked for this output together with others: counted (once) in `Attribution.combined`.
    shared_calls: int = 0
    outputs: tuple[str, ...] = ()  # on a combined record: the outputs its calls asked for


@dataclass(frozen=True, slots=True)
class OutputAttribution:
    output: str
    provider: str
    model: str
    payer: Payer
    attempts: tuple[AttemptRecord, ...]  # in the order tried; the last one served the output

    @property
    def spend(self) -> Spend:
        """Every call made for this output, on the providers that failed it too."""
        return Spend.total(a.spend for a in self.attempts)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who served and who paid, per output. `shared` is the map step of a long transcript: notes made once per
    provider and read by every output that provider served (or tried to). `combined` holds, per provider, the calls
    that asked for several outputs at once (a job's outputs share one call): each call is counted once, there, and
    the outputs it asked for name it in their attempts' `shared_calls`. Every call is in exactly one place, so the
    sums are the job's."""

    outputs: tuple[OutputAttribution, ...]
    shared: tuple[AttemptRecord, ...] = ()
    combined: tuple[AttemptRecord, ...] = ()

    @property
    def spend(self) -> Spend:
        return Spend.total(r.spend for r in self.records())

    def records(self) -> list[AttemptRecord]:
        return [*(a for o in self.outputs for a in o.attempts), *self.shared, *self.combined]

    def spent_by(self, payer: Payer) -> bool:
        """Whether `payer`'s keys served an output or made any call for this job (what a quota counts)."""
        return any(r.payer is payer and (r.outcome == "served" or r.calls > 0) for r in self.records())


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """What one job spent on one provider and model with one payer's key; a job writes one event per such group."""

    id: uuid.UUID
    user_id: uuid.UUID
    kind: str  # "process"
    provider: str | None
    model: str | None
    payer: Payer | None  # None on events recorded before payers were
    spend: Spend
    cached: bool
    created_at: datetime
    history_id: uuid.UUID | None = None  # the job's history row: the events of one job share it


@dataclass(frozen=True, slots=True)
class UsageSummary:
    usage_count: int
    events_total: int
    spend: Spend
    since: datetime | None
    by_payer: Mapping[Payer, Spend] = field(default_factory=dict)
