"""Rolling provider statistics kept in the process: the embedded runtime's; with Redis, RedisProviderStats shares
them among processes."""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from application.processing.ports import CallRecord, ProviderStatsView
from domain.usage import Spend


@dataclass(frozen=True, slots=True)
class _Event:
    at: float
    call: CallRecord | None  # None: a fallback away from `provider`
    provider: str


class InMemoryProviderStats:
    MAX_EVENTS = 100_000  # bounded memory whatever the traffic; the oldest fall out first

    def __init__(self, window_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_seconds
        self._clock = clock
        self._events: deque[_Event] = deque(maxlen=self.MAX_EVENTS)

    @property
    def window_seconds(self) -> int:
        return self._window

    def record(self, call: CallRecord) -> None:
        self._events.append(_Event(self._clock(), call, call.provider))

    def fallback(self, provider: str) -> None:
        self._events.append(_Event(self._clock(), None, provider))

    async def snapshot(self) -> Sequence[ProviderStatsView]:
        horizon = self._clock() - self._window
        while self._events and self._events[0].at < horizon:
            self._events.popleft()
        by_provider: dict[str, list[_Event]] = {}
        for event in self._events:
            by_provider.setdefault(event.provider, []).append(event)
        return [_view(name, events) for name, events in sorted(by_provider.items())]


def _view(provider: str, events: list[_Event]) -> ProviderStatsView:
    calls = [e.call for e in events if e.call is not None]
    latencies = sorted(c.latency_ms for c in calls if c.outcome == "ok")
    return ProviderStatsView(
        provider=provider,
        calls=len(calls),
        errors=sum(c.outcome != "ok" for c in calls),
        fallbacks=len(events) - len(calls),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        spend=Spend.total(c.spend for c in calls).rounded,
    )


def percentile(sorted_values: list[float], percent: int) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return round(sorted_values[0], 1)
    return round(statistics.quantiles(sorted_values, n=100, method="inclusive")[percent - 1], 1)
