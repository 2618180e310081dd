from __future__ import annotations

import pytest

from application.processing.ports import CallRecord
from domain.outputs import answer_schema
from domain.usage import Spend
from infrastructure.ai.circuit_breaker import InMemoryCircuitBreaker
from infrastructure.ai.failures import retry_after_seconds
from infrastructure.ai.provider_stats import InMemoryProviderStats
from infrastructure.ai.schema import strict_schema


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_circuit_opens_after_repeated_failures_and_one_trial_closes_it() -> None:
    clock = Clock()
    breaker = InMemoryCircuitBreaker(failures=3, cooldown=30, clock=clock)
    for _ in range(2):
        breaker.failure("p", None)
    assert breaker.retry_in("p") == 0  # two failures: still closed
    breaker.failure("p", None)
    assert breaker.retry_in("p") == 30
    assert breaker.is_open("p")

    clock.now = 31
    assert breaker.retry_in("p") == 0  # the trial call
    assert breaker.retry_in("p") > 0  # everyone else waits for its verdict
    breaker.failure("p", None)  # the trial failed: open again at once
    assert breaker.retry_in("p") == pytest.approx(30)

    clock.now = 62
    assert breaker.retry_in("p") == 0
    breaker.success("p")
    assert breaker.retry_in("p") == 0
    assert not breaker.is_open("p")


def test_retry_after_opens_the_circuit_immediately_for_that_long() -> None:
    clock = Clock()
    breaker = InMemoryCircuitBreaker(failures=3, cooldown=30, clock=clock)
    breaker.failure("p", 7)
    assert breaker.retry_in("p") == 7
    assert breaker.retry_in("other") == 0


async def test_stats_give_percentiles_errors_fallbacks_and_spend_over_the_window() -> None:
    clock = Clock()
    stats = InMemoryProviderStats(window_seconds=60, clock=clock)
    stats.record(CallRecord("old", "m", 999, "ok"))
    clock.now = 100
    for latency in range(1, 101):
        stats.record(CallRecord("a", "m", float(latency), "ok", Spend(10, 5, 0.001)))
    stats.record(CallRecord("a", "m", 5000, "timeout"))
    stats.fallback("a")
    [view] = await stats.snapshot()
    assert view.provider == "a"
    assert view.calls == 101
    assert view.errors == 1
    assert view.fallbacks == 1
    assert view.latency_p50_ms == pytest.approx(50.5)
    assert 94 < (view.latency_p95_ms or 0) < 97
    assert view.spend.tokens_in == 1000
    assert view.spend.cost_usd == pytest.approx(0.1)
    assert view.error_rate == pytest.approx(1 / 101, abs=1e-4)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("garbage", None),
        (None, None),
        ("inf", None),
        ("nan", None),
        ("1e400", None),
        ("99999999", 3600.0),
        ("-5", 0.0),
    ],
)
def test_retry_after_is_read_as_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date_in_the_past_is_zero() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize("kind", ["summary", "topics", "mind_map", "social_post", "custom", "chunk_notes"])
def test_strict_schemas_are_closed_fully_required_and_reference_free(kind: str) -> None:
    schema = strict_schema(answer_schema(kind))

    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert "$ref" not in node
            assert "$defs" not in node
            if node.get("type") == "object":
                assert node["additionalProperties"] is False
                assert set(node["required"]) == set(node["properties"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    assert schema["type"] == "object"
    walk(schema)


def _status_error(status: int, body: object, headers: dict[str, str] | None = None) -> Exception:
    import httpx2
    import openai

    request = httpx2.Request("POST", "http://upstream.invalid/v1/chat/completions")
    response = httpx2.Response(status, headers=headers or {}, request=request)
    return openai.APIStatusError("upstream said no", response=response, body=body)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "retry_after"),
    [
        (429, None, {"retry-after": "12"}, "rate_limited", 12.0),
        (429, None, {"retry-after-ms": "1500"}, "rate_limited", 1.5),
        (401, None, None, "rejected_key", None),
        (
            400,
            {"error": {"status": "INVALID_ARGUMENT", "details": [{"reason": "API_KEY_INVALID"}]}},
            None,
            "rejected_key",
            None,
        ),
        (400, {"error": {"message": "context length exceeded"}}, None, "bad_request", None),
        (503, None, None, "unavailable", None),
        (529, None, None, "unavailable", None),
    ],
)
def test_upstream_statuses_map_to_failure_kinds(
    status: int, body: object, headers: dict[str, str] | None, kind: str, retry_after: float | None
) -> None:
    from infrastructure.ai.failures import as_failure

    failure = as_failure("gemini", _status_error(status, body, headers))
    assert failure.kind == kind
    assert failure.retry_after == retry_after
    assert "upstream said no" not in str(failure)  # only the status reaches our messages


def test_a_trial_that_never_reports_does_not_shut_the_provider_out_for_good() -> None:
    clock = Clock()
    breaker = InMemoryCircuitBreaker(failures=1, cooldown=30, clock=clock)
    breaker.failure("p", None)
    clock.now = 31
    assert breaker.retry_in("p") == 0  # the trial starts, and its request is then cancelled
    clock.now = 40
    assert breaker.retry_in("p") > 0
    clock.now = 62
    assert breaker.retry_in("p") == 0  # a new trial


def test_a_trial_may_take_as_long_as_a_call_before_another_starts() -> None:
    clock = Clock()
    breaker = InMemoryCircuitBreaker(failures=1, cooldown=30, trial_timeout=65, clock=clock)
    breaker.failure("p", None)
    clock.now = 31
    assert breaker.retry_in("p") == 0
    clock.now = 90  # the trial call is still running (a 60 s timeout): no second trial yet
    assert breaker.retry_in("p") > 0
    clock.now = 97
    assert breaker.retry_in("p") == 0
