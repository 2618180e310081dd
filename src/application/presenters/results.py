"""The parts of a processing result's JSON that a history entry shows too: key topics, tokens, and who served and
paid for each output. Presenters, in application because history exports render entries with them (see
`application.presenters.history`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from domain.usage import AttemptRecord, OutputAttribution, Spend


class KeyTopicView(msgspec.Struct):
    title: str
    timestamp: float | None


class TokensView(msgspec.Struct, omit_defaults=True):
    """`cached` is left out when nothing came from a prompt cache, as before prompt caching."""

    input: int
    output: int
    total: int
    cached: Annotated[
        int, Meta(description="Of `input`, the tokens the provider read from its prompt cache, billed at its discount")
    ] = 0

    @classmethod
    def of(cls, spend: Spend) -> TokensView:
        return cls(spend.tokens_in, spend.tokens_out, spend.tokens_total, spend.tokens_cached)


class AttemptView(msgspec.Struct):
    """One provider tried: its calls (re-asks, timed-out and cancelled calls included) and what they cost."""

    provider: str
    model: str
    payer: Annotated[str, Meta(description="user_key, server_key or none (the offline provider)")]
    outcome: Annotated[str, Meta(description="served, or why the next provider was asked")]
    calls: Annotated[int, Meta(description="Calls made for this output alone (on `combined_calls`: all of them)")]
    tokens: TokensView
    cost_usd: float
    shared_calls: Annotated[
        int,
        Meta(description="Calls that asked for this output together with others: counted once, in `combined_calls`"),
    ] = 0
    outputs: Annotated[list[str], Meta(description="On `combined_calls`: the outputs those calls asked for")] = []

    @classmethod
    def of(cls, record: AttemptRecord) -> AttemptView:
        spend = record.spend.rounded
        return cls(
            record.provider,
            record.model,
            record.payer,
            record.outcome,
            record.calls,
            TokensView.of(spend),
            spend.cost_usd,
            record.shared_calls,
            list(record.outputs),
        )


class OutputAttributionView(msgspec.Struct):
    provider: str
    model: str
    payer: str
    tokens: TokensView
    cost_usd: float
    attempts: list[AttemptView]

    @classmethod
    def of(cls, attribution: OutputAttribution) -> OutputAttributionView:
        spend = attribution.spend.rounded
        return cls(
            provider=attribution.provider,
            model=attribution.model,
            payer=attribution.payer,
            tokens=TokensView.of(spend),
            cost_usd=spend.cost_usd,
            attempts=[AttemptView.of(a) for a in attribution.attempts],
        )
