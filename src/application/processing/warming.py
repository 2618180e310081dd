"""Cache warming: the most requested answers are produced again shortly before they expire, so the next request for
them is still a hit. Runs on the server's keys only (never a user's), within a token budget per run.

Today the API process runs it as a periodic background loop; it moves to the job queue (a scheduled SAQ task)
when that lands."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import Caller
from application.processing.process import ProcessCommand, ProcessTranscript
from application.processing.result_cache import ResultCachePolicy, ResultStore
from domain.errors import ScribeError


@dataclass(frozen=True, slots=True)
class WarmingReport:
    warmed: int  # answers produced again
    failed: int  # answers that could not be (the provider failed, the video went private...)
    tokens: int  # upstream tokens spent


class WarmResultCache:
    raises = ()

    def __init__(self, store: ResultStore, policy: ResultCachePolicy, process: ProcessTranscript) -> None:
        self._store = store
        self._policy = policy
        self._process = process

    async def __call__(self) -> WarmingReport:
        warmed = failed = tokens = 0
        if not self._policy.enabled or self._policy.warm_top_n <= 0:
            return WarmingReport(warmed, failed, tokens)
        # The operator's caller has no keys of its own: every provider asked is paid by the server.
        server = Caller(None, "cache-warming", operator=True)
        for key in await self._store.most_requested(self._policy.warm_top_n):
            if tokens >= self._policy.warm_budget_tokens:
                break
            left = await self._store.seconds_left(key)
            if left is None or left > self._policy.warm_before_seconds:
                continue  # gone already, or not expiring soon
            recipe = await self._store.recipe(key)
            if recipe is None:  # only answers the server's own chain gave can be made again on its keys
                continue
            try:
                result = await self._process(server, ProcessCommand.from_recipe(recipe, force_refresh=True))
            except ScribeError:
                failed += 1
                continue
            warmed += 1
            tokens += result.spend.tokens_total
        return WarmingReport(warmed, failed, tokens)
