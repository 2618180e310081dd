"""A cached, authenticated `POST /api/v1/process` against its I/O floor, in one run (issue #13).

    .venv/bin/python bench/cached_process.py [--duration 10] [--connections 64] [--runs 3]

Needs `wrk`, PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379. See bench/README.md
("Cached process against its I/O floor") for what is measured and the target.

The app: `scribe serve`, one worker, on a fresh PostgreSQL database and its own Redis prefix, the offline provider
as the AI (a cache hit never asks it), the free tier's limits raised so that the limiter counts but never refuses.
One request fills the result cache; wrk then sends the same request with a login's access token.

The floor: what that request must do over the network, and nothing else, in a plain asyncio process (uvloop, as
the server runs) at the same concurrency: the Redis commands a cached request sends (the GCRA script, the
popularity count, the cache GET) with redis-py and hiredis, then the history row, the usage event and the usage
count in one transaction with asyncpg (a pool as large as the app's), each simulated request one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from hot_path import NEVER_TRIPS, _latency, cpu_seconds, scribe, settle
from http_bench import EMAIL, PASSWORD, REDIS_URL, SCRIBE, clean_env, drop_redis_prefix, percentile, pg_admin
from process_bench import process_body

from infrastructure.state.redis import _GCRA  # the limiter's own script: the floor runs the same Lua

TARGET_VS_FLOOR = 0.5
PROCESS = "/api/v1/process"
POOL_SIZE = 10  # SCRIBE_DATABASE_POOL_SIZE's default; the engine may open as many again (max_overflow)
RATE_PER_MINUTE = 1_000_000_000
SAMPLES = 5  # answers checked by hand before and after each app run


@dataclass(frozen=True, slots=True)
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu: float  # the process's CPU time over the measurement, as a fraction of a core


@dataclass(frozen=True, slots=True)
class Floor:
    """What the floor process needs to repeat a cached request's I/O."""

    dsn: str
    redis_url: str
    rate_key: str
    requests_key: str
    entry_key: str
    user_id: str
    concurrency: int
    warmup: float
    duration: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per measurement (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="connections / concurrent workers (default 64)")
    parser.add_argument("--runs", type=int, default=3, help="app and floor measured this often, in turn (default 3)")
    parser.add_argument("--floor", help=argparse.SUPPRESS)  # internal: run the floor (JSON of Floor), print a Load
    args = parser.parse_args()
    if args.floor:
        print(json.dumps(asdict(run_floor(Floor(**json.loads(args.floor))))))
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: still stop the server and drop the database
    apps: list[Load] = []
    floors: list[Load] = []
    with tempfile.TemporaryDirectory(prefix="scribe-cached-process-") as tmp, app_on_postgres(Path(tmp)) as setup:
        base, database, prefix, worker = setup
        token = login(base)
        fill_cache(base, token)
        floor = floor_of(database, prefix, args)
        header = f"Authorization: Bearer {token}"
        with wrk_post_body(process_body().decode()) as script:
            for run in range(1, args.runs + 1):
                rows_before = asyncio.run(history_rows(floor.dsn))
                apps.append(measure_app(f"{base}{PROCESS}", header, script, args, worker))
                rows = asyncio.run(history_rows(floor.dsn)) - rows_before
                check_cached(base, token)
                floors.append(measure_floor(floor))
                print(f"run {run}: app {apps[-1].rps:.0f} req/s ({rows} history rows), floor {floors[-1].rps:.0f}/s")
    report(apps, floors, args)
    return 0


@contextlib.contextmanager
def app_on_postgres(logs: Path) -> Iterator[tuple[str, str, str, int]]:
    """`scribe serve`, one worker, on a fresh database and Redis prefix: its base URL, the database, the prefix
    and the worker's process id."""
    run_id = uuid.uuid4().hex[:10]
    database, prefix = f"scribe_bench_{run_id}", f"scribe_bench_{run_id}:"
    asyncio.run(pg_admin(f'CREATE DATABASE "{database}"'))
    try:
        env = clean_env(
            SCRIBE_ENV="development",
            SCRIBE_LOG_FORMAT="json",
            SCRIBE_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
            SCRIBE_DATABASE_POOL_SIZE=str(POOL_SIZE),
            SCRIBE_REDIS_URL=REDIS_URL,
            SCRIBE_REDIS_PREFIX=prefix,
            SCRIBE_AI_CHAIN="local",
            SCRIBE_TIER_FREE_REQUESTS_PER_MINUTE=str(RATE_PER_MINUTE),
            SCRIBE_TIER_FREE_JOBS_PER_DAY=str(NEVER_TRIPS),
        )
        subprocess.run([SCRIBE, "db", "upgrade"], env=env, check=True, timeout=120, stdout=subprocess.DEVNULL)
        with scribe(env, logs / "scribe.log") as (base, worker):
            settle(worker)
            yield base, database, prefix, worker
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        asyncio.run(drop_redis_prefix(prefix))


def login(base: str) -> str:
    """Registers the bench user and logs in: the access token (a JWT, valid 15 minutes: longer than a run)."""
    credentials = {"email": EMAIL, "password": PASSWORD}
    with httpx.Client(base_url=base, timeout=30) as client:
        client.post("/api/v1/auth/register", json=credentials).raise_for_status()
        response = client.post("/api/v1/auth/login", json=credentials)
        response.raise_for_status()
        token: str = response.json()["data"]["access_token"]
        return token


def post_process(base: str, token: str) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    response = httpx.post(f"{base}{PROCESS}", content=process_body(), headers=headers, timeout=120)
    if response.status_code != 200:
        raise RuntimeError(f"POST {PROCESS} answered {response.status_code}: {response.text[:2000]}")
    if response.headers.get("ratelimit-limit") != str(RATE_PER_MINUTE):
        raise RuntimeError(f"the limiter did not weigh the request: {dict(response.headers)}")
    data: dict[str, Any] = response.json()["data"]
    return data


def fill_cache(base: str, token: str) -> None:
    first = post_process(base, token)
    if first["cached"]:
        raise RuntimeError("the first request found a cached answer in a fresh Redis prefix")
    check_cached(base, token)


def check_cached(base: str, token: str) -> None:
    for _ in range(SAMPLES):
        if not post_process(base, token)["cached"]:
            raise RuntimeError("a repeated request was not answered from the result cache")


@contextlib.contextmanager
def wrk_post_body(body: str) -> Iterator[str]:
    script = f"wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.body = [==[{body}]==]\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        yield lua.name


def measure_app(url: str, header: str, script: str, args: argparse.Namespace, worker: int) -> Load:
    """wrk's warm-up, then its measurement; every answer must be a 2xx."""
    out, cpu = "", 0.0
    for seconds in (args.warmup, args.duration):
        cpu = cpu_seconds(worker)
        cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--latency", "-H", header, "-s", script, url]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if bad:
            raise RuntimeError(f"{bad.group(1)} answers were not 2xx\n{out}")
        cpu = (cpu_seconds(worker) - cpu) / seconds
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rps:
        raise RuntimeError(f"cannot read wrk's output\n{out}")
    return Load(float(rps.group(1)), _latency(out, "50%"), _latency(out, "99%"), cpu)


async def history_rows(dsn: str) -> int:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM processing_history"))
    finally:
        await connection.close()


def floor_of(database: str, prefix: str, args: argparse.Namespace) -> Floor:
    """The keys and the user the app's cached requests touch, read from Redis and the database."""
    dsn = f"postgresql://postgres@127.0.0.1:5432/{database}"

    async def read() -> Floor:
        import asyncpg
        from redis.asyncio import Redis

        async with Redis.from_url(REDIS_URL) as redis:
            entries = [k.decode() async for k in redis.scan_iter(match=f"{prefix}results:entry:*")]
            counts = [k.decode() async for k in redis.scan_iter(match=f"{prefix}results:requests:*")]
        if len(entries) != 1 or len(counts) != 1:
            raise RuntimeError(f"expected one cached entry and one request count: {entries, counts}")
        connection = await asyncpg.connect(dsn)
        try:
            user_id = await connection.fetchval("SELECT id FROM users")
        finally:
            await connection.close()
        return Floor(
            dsn=dsn,
            redis_url=REDIS_URL,
            # a rate this high is spent within microseconds: the key expires at once, so its name is built here
            rate_key=f"{prefix}rate:user:{user_id}",
            # the floor counts under its own hour's key (it may start in the next hour), with the same member
            requests_key=counts[0].rsplit(":", 1)[0],
            entry_key=entries[0],
            user_id=str(user_id),
            concurrency=args.connections,
            warmup=args.warmup,
            duration=args.duration,
        )

    return asyncio.run(read())


def measure_floor(floor: Floor) -> Load:
    """The floor in a process of its own, as the server is one."""
    cmd = [sys.executable, __file__, "--floor", json.dumps(asdict(floor))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=floor.duration * 4 + 60).stdout
    return Load(**json.loads(out.splitlines()[-1]))


# --------------------------------------------------------------------------------------------------------------
# The floor: a cached request's round trips, without the server.

HISTORY_COLUMNS = (
    "user_id, transcript_hash, purpose, summary, topics, mind_map, social_post, outputs, key_topics, custom_prompt, "
    "custom_output, video_id, video_url, title, language, provider, model, tokens_in, tokens_out, cost_usd, "
    "duration_ms, cached, attribution, search_text"
)
USAGE_COLUMNS = "user_id, kind, provider, model, tokens_in, tokens_out, cost_usd, cached, payer"


def run_floor(floor: Floor) -> Load:
    try:
        import uvloop
    except ImportError:  # the server runs on asyncio's loop then too
        return asyncio.run(floor_load(floor))
    return uvloop.run(floor_load(floor))


async def floor_load(floor: Floor) -> Load:
    """Closed loop: `concurrency` workers, each repeating one cached request's I/O, for warm-up then duration."""
    import asyncpg
    from redis.asyncio import Redis

    redis = Redis.from_url(floor.redis_url)
    gcra = redis.register_script(_GCRA)
    pool = await asyncpg.create_pool(floor.dsn, min_size=POOL_SIZE, max_size=2 * POOL_SIZE)
    # The rows the app wrote for a cached request: the floor writes the same values under new ids.
    history = await pool.fetchrow(f"SELECT {HISTORY_COLUMNS} FROM processing_history WHERE cached LIMIT 1")
    usage = await pool.fetchrow(f"SELECT {USAGE_COLUMNS} FROM usage_events WHERE cached LIMIT 1")
    if history is None or usage is None:
        raise RuntimeError("the app wrote no cached history row to copy")
    user_id = uuid.UUID(floor.user_id)
    member = floor.entry_key.rsplit(":", 1)[1]
    insert_history = (
        f"INSERT INTO processing_history (id, created_at, {HISTORY_COLUMNS}) "
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(history) + 3))})"
    )
    insert_usage = (
        f"INSERT INTO usage_events (id, created_at, history_id, {USAGE_COLUMNS}) "
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(usage) + 4))})"
    )

    async def one_request() -> None:
        await gcra(keys=[floor.rate_key], args=[max(1, 60_000_000 // RATE_PER_MINUTE), RATE_PER_MINUTE, ""])
        now = time.time()
        requests = f"{floor.requests_key}:{int(now // 3600)}"
        pipe = redis.pipeline(transaction=False)
        pipe.zincrby(requests, 1, member)
        pipe.expire(requests, 25 * 3600)
        await pipe.execute()
        if await redis.get(floor.entry_key) is None:
            raise RuntimeError("the cached entry is gone")
        history_id = uuid.uuid4()
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute("UPDATE users SET usage_count = usage_count + $1 WHERE id = $2", 1, user_id)
            created = datetime.fromtimestamp(now, UTC)
            await connection.execute(insert_history, history_id, created, *history)
            await connection.execute(insert_usage, uuid.uuid4(), created, history_id, *usage)

    latencies: list[float] = []

    async def worker(warm_until: float, until: float) -> None:
        while (started := time.perf_counter()) < until:
            await one_request()
            if started >= warm_until:
                latencies.append((time.perf_counter() - started) * 1000)

    try:
        start = time.perf_counter()
        warm_until, until = start + floor.warmup, start + floor.warmup + floor.duration
        warm = asyncio.gather(*(worker(warm_until, until) for _ in range(floor.concurrency)))
        await asyncio.sleep(floor.warmup)
        cpu = time.process_time()
        await warm
        measured = time.perf_counter() - warm_until
        cpu = (time.process_time() - cpu) / measured
    finally:
        await pool.close()
        await redis.aclose()
    return Load(len(latencies) / measured, percentile(latencies, 50), percentile(latencies, 99), cpu)


# --------------------------------------------------------------------------------------------------------------


def report(apps: list[Load], floors: list[Load], args: argparse.Namespace) -> None:
    print(f"\nPOST {PROCESS}, cached, {args.connections} connections, {args.duration} s per row after {args.warmup} s")
    print(f"{'':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU':>5} {'app/floor':>10}")
    for run, (app, floor) in enumerate(zip(apps, floors, strict=True), 1):
        print(f"app   run {run} {app.rps:>8.0f} {app.p50_ms:>8.2f} {app.p99_ms:>8.2f} {app.cpu:>5.0%} ", end="")
        print(f"{app.rps / floor.rps:>9.2f}x")
        print(f"floor run {run} {floor.rps:>8.0f} {floor.p50_ms:>8.2f} {floor.p99_ms:>8.2f} {floor.cpu:>5.0%}")
    print("(CPU: the server's worker, or the floor's process, over the measurement, in cores)")
    ratios = [app.rps / floor.rps for app, floor in zip(apps, floors, strict=True)]
    ratio = statistics.median(ratios)
    app_p99 = statistics.median(a.p99_ms for a in apps)
    floor_p99 = statistics.median(f.p99_ms for f in floors)
    verdict = "ok" if ratio >= TARGET_VS_FLOOR else "MISSED"
    print(f"\nmedian of {len(ratios)} runs: app {statistics.median(a.rps for a in apps):.0f} req/s, ", end="")
    print(f"floor {statistics.median(f.rps for f in floors):.0f}/s, app/floor {ratio:.2f}x ", end="")
    print(f"(target >= {TARGET_VS_FLOOR}x: {verdict}); p99 app {app_p99:.2f} ms, floor {floor_p99:.2f} ms")


if __name__ == "__main__":
    sys.exit(main())
