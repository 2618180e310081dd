"""An in-process circuit breaker per provider and payer.

Each API process learns provider health from its own calls; that is enough for a breaker (a process that has not
seen failures yet makes one failing call before it agrees)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


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
