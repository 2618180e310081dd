"""In-process circuit breaker and rolling provider statistics.

Each API process learns provider health from its own calls; that is enough for a breaker (a process that has
not seen failures yet makes one failing call before it agrees). These stats serve the embedded runtime; with
Redis, RedisProviderStats shares them among processes."""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from application.processing.ports import CallRecord, ProviderStatsView
from domain.usage import Spend


@dataclass(slots=True)
class _BreakerState:
    failures: int = 0
    open_until: float = 0.0
    trial_started: float | None = None


class InMemoryCircuitBreaker:
    def __init__(
        self, failures: int, cooldown: float, trial_timeout: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._trial_timeout = max(cooldown, trial_timeout)  # a trial call may take up to the call timeout
        self._clock = clock
        self._states: dict[str, _BreakerState] = {}

    def retry_in(self, key: str) -> float:
        state = self._states.get(key)
        if state is None or state.open_until == 0.0:
            return 0.0
        now = self._clock()
        remaining = state.open_until - now
        if remaining > 0:
            return remaining
        # Half-open: one call finds out, the others wait for its verdict. A trial that never reports (its
        # request was cancelled) is forgotten after a cooldown, so the provider is not shut out for good.
        if state.trial_started is not None and now - state.trial_started < self._trial_timeout:
            return max(1.0, self._trial_timeout - (now - state.trial_started))
        state.trial_started = now
        return 0.0

    def success(self, key: str) -> None:
        self._states.pop(key, None)

    def failure(self, key: str, retry_after: float | None, open_now: bool = False) -> None:
        state = self._states.setdefault(key, _BreakerState())
        state.failures += 1
        state.trial_started = None
        if retry_after is not None:  # the provider said when to come back: believe it
            state.open_until = self._clock() + max(retry_after, 0.001)
        elif open_now or state.failures >= self._threshold or state.open_until:
            state.open_until = self._clock() + self._cooldown

    def is_open(self, key: str) -> bool:
        state = self._states.get(key)
        return state is not None and state.open_until > self._clock()


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
