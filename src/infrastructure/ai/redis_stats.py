"""Provider statistics shared by every API process through Redis, so `GET /api/v1/providers` says the same
whichever process answers.

Recording stays off the request path: calls are buffered in the process and flushed every second (and before
every snapshot) as per-minute buckets: a hash of counters and a capped list of latencies per provider, which
expire with the window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis

from application.processing.ports import CallRecord, ProviderStatsView
from domain.usage import Spend
from infrastructure.ai.provider_stats import percentile
from infrastructure.outages import outages, unavailable_dependency

log = structlog.get_logger("scribe.ai")

FLUSH_SECONDS = 1.0
LATENCIES_PER_BUCKET = 2000  # enough for stable percentiles; bounded whatever the traffic


@dataclass(slots=True)
class _Bucket:
    counters: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def add(self, name: str, amount: float) -> None:
        if amount:
            self.counters[name] = self.counters.get(name, 0) + amount


class RedisProviderStats:
    def __init__(self, redis: Redis, prefix: str, window_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._prefix = f"{prefix}ai-stats:"
        self._window = window_seconds
        self._bucket_seconds = max(1, window_seconds // 60)
        self._clock = clock
        self._pending: dict[tuple[str, int], _Bucket] = {}

    @property
    def window_seconds(self) -> int:
        return self._window

    def record(self, call: CallRecord) -> None:
        bucket = self._pending_bucket(call.provider)
        bucket.add("calls", 1)
        bucket.add("errors", call.outcome != "ok")
        bucket.add("tokens_in", call.spend.tokens_in)
        bucket.add("tokens_out", call.spend.tokens_out)
        bucket.add("cost_usd", call.spend.cost_usd)
        if call.outcome == "ok":
            bucket.latencies.append(round(call.latency_ms, 2))

    def fallback(self, provider: str) -> None:
        self._pending_bucket(provider).add("fallbacks", 1)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception as error:  # Redis away for a moment: the counts wait in the next batch
                dependency = unavailable_dependency(error)
                if dependency is None:
                    log.warning("ai_stats_flush_failed", exc_info=True)
                else:
                    outages.failed(dependency, error)

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        ttl = self._window + 2 * self._bucket_seconds
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for (provider, number), bucket in pending.items():
                    counters, latencies = self._keys(provider, number)
                    for name, amount in bucket.counters.items():
                        if name == "cost_usd":
                            pipe.hincrbyfloat(counters, name, amount)
                        else:
                            pipe.hincrby(counters, name, int(amount))
                    pipe.expire(counters, ttl)
                    if bucket.latencies:
                        pipe.rpush(latencies, *bucket.latencies)
                        pipe.ltrim(latencies, -LATENCIES_PER_BUCKET, -1)
                        pipe.expire(latencies, ttl)
                    pipe.sadd(f"{self._prefix}providers", provider)
                await pipe.execute()
        except BaseException:
            for key, bucket in pending.items():  # put them back in front of what came meanwhile
                merged = self._pending.setdefault(key, _Bucket())
                for name, amount in bucket.counters.items():
                    merged.add(name, amount)
                merged.latencies[:0] = bucket.latencies
            raise

    async def snapshot(self) -> Sequence[ProviderStatsView]:
        await self.flush()
        members = await self._redis.smembers(f"{self._prefix}providers")
        providers = sorted(m.decode() if isinstance(m, bytes) else m for m in members)
        now = int(self._clock() // self._bucket_seconds)
        first = int((self._clock() - self._window) // self._bucket_seconds) + 1
        numbers = range(first, now + 1)
        async with self._redis.pipeline(transaction=False) as pipe:
            for provider in providers:
                for number in numbers:
                    counters_key, latencies_key = self._keys(provider, number)
                    pipe.hgetall(counters_key)
                    pipe.lrange(latencies_key, 0, -1)
            answers = await pipe.execute()
        views = []
        per_provider = 2 * len(numbers)
        for index, provider in enumerate(providers):
            chunk = answers[index * per_provider : (index + 1) * per_provider]
            totals: dict[str, float] = {}
            latencies: list[float] = []
            for counters, values in zip(chunk[::2], chunk[1::2], strict=True):
                for name, amount in counters.items():
                    totals[name.decode()] = totals.get(name.decode(), 0) + float(amount)
                latencies.extend(float(value) for value in values)
            if totals:
                views.append(_view(provider, totals, sorted(latencies)))
        return views

    def _pending_bucket(self, provider: str) -> _Bucket:
        key = (provider, int(self._clock() // self._bucket_seconds))
        bucket = self._pending.get(key)
        if bucket is None:
            bucket = self._pending[key] = _Bucket()
        return bucket

    def _keys(self, provider: str, number: int) -> tuple[str, str]:
        return f"{self._prefix}{provider}:{number}", f"{self._prefix}{provider}:{number}:latency"


def _view(provider: str, totals: dict[str, float], latencies: list[float]) -> ProviderStatsView:
    return ProviderStatsView(
        provider=provider,
        calls=int(totals.get("calls", 0)),
        errors=int(totals.get("errors", 0)),
        fallbacks=int(totals.get("fallbacks", 0)),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        spend=Spend(
            int(totals.get("tokens_in", 0)), int(totals.get("tokens_out", 0)), round(totals.get("cost_usd", 0.0), 6)
        ),
    )
