"""Bodies and views of the caller's own API tokens and usage."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from application.accounts.export import MyData
from application.accounts.usage import UsageReport
from application.presenters.history import HistoryEntryView
from application.processing.quota import QuotaStanding
from domain.api_tokens import ApiToken, Scope
from domain.usage import UsageSummary
from interfaces.http.controllers.api_keys import ProviderKeyView
from interfaces.http.controllers.auth_schemas import UserView


class CreateApiTokenBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(max_length=1000, examples=["CI pipeline"])]
    scopes: list[Scope] = msgspec.field(default_factory=lambda: [Scope.READ, Scope.WRITE])
    expires_in_days: int | None = None


class ApiTokenView(msgspec.Struct):
    id: uuid.UUID
    name: str
    hint: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenView:
        return cls(
            token.id,
            token.name,
            token.hint,
            list(token.scopes),
            token.created_at,
            token.expires_at,
            token.last_used_at,
            token.revoked_at,
        )


class CreatedApiTokenView(msgspec.Struct):
    token: str  # shown once, never again
    api_token: ApiTokenView


class PayerUsageView(msgspec.Struct):
    tokens_in: int
    tokens_out: int
    cost_usd: float


class UsageView(msgspec.Struct):
    usage_count: int
    events: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    since: datetime | None
    by_payer: Annotated[
        dict[str, PayerUsageView],
        Meta(description="Spend by whose key paid: user_key (yours), server_key (the server's), none (offline)"),
    ]

    @classmethod
    def of(cls, usage: UsageSummary) -> UsageView:
        return cls(
            usage.usage_count,
            usage.events_total,
            usage.spend.tokens_in,
            usage.spend.tokens_out,
            usage.spend.cost_usd,
            usage.since,
            {
                str(payer): PayerUsageView(spend.tokens_in, spend.tokens_out, round(spend.cost_usd, 6))
                for payer, spend in usage.by_payer.items()
            },
        )


class QuotaView(msgspec.Struct):
    tier: str
    jobs_per_day: Annotated[int | None, Meta(description="Jobs a UTC day on the server's AI keys; null: no quota")]
    used_today: Annotated[int, Meta(description="Jobs today that the server's keys paid for (yours do not count)")]
    remaining: int | None
    resets_at: datetime

    @classmethod
    def of(cls, quota: QuotaStanding) -> QuotaView:
        return cls(quota.tier, quota.jobs_per_day, quota.used_today, quota.remaining, quota.resets_at)


class MyUsageView(UsageView):
    quota: QuotaView

    @classmethod
    def of_report(cls, report: UsageReport) -> MyUsageView:
        return cls(**msgspec.structs.asdict(UsageView.of(report.summary)), quota=QuotaView.of(report.quota))


class MyDataView(msgspec.Struct):
    user: UserView
    api_tokens: Annotated[list[ApiTokenView], Meta(description="Names, scopes and dates: never a token itself")]
    provider_keys: Annotated[list[ProviderKeyView], Meta(description="Masked hints: never a key itself")]
    usage: UsageView
    history: list[HistoryEntryView]

    @classmethod
    def of(cls, data: MyData) -> MyDataView:
        return cls(
            user=UserView.of(data.user),
            api_tokens=[ApiTokenView.of(t) for t in data.api_tokens],
            provider_keys=[ProviderKeyView.of(k) for k in data.provider_keys],
            usage=UsageView.of(data.usage),
            history=[HistoryEntryView.of(e) for e in data.history],
        )
