"""Scribe's hot path against the prototype's own Express server, in one run (issue #13, item 7).

    .venv/bin/python bench/hot_path.py --prototype ../scratch/yt-scribe-api [--duration 10] [--connections 64]

Needs `wrk`, `node`, PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379, and a
built checkout of `KamWit7/yt-scribe-api` outside this repository (`npm ci && npx tsc` in it). See
bench/README.md ("Hot path") for what is measured and the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from http_bench import REDIS_URL, SCRIBE, clean_env, drop_redis_prefix, free_port, pg_admin, register, serve, stop

BENCH = Path(__file__).resolve().parent
DICTIONARY = "/api/dictionary?code=purpose"
PROFILE = "/api/v1/auth/profile"
NEVER_TRIPS = 1_000_000_000  # a rate limit no benchmark reaches: the limiter counts, never refuses
TARGET_VS_PROTOTYPE = 1.5
TARGET_ANONYMOUS_VS_PROTOTYPE = 1.3
TARGET_PROFILE_P99_VS_DICTIONARY = 3.0
TARGET_RSS_MB = 150.0
# The embedded runtime (SQLite, no Redis) as configured out of the box, where the offline provider serves the
# default chain and loads its language data at start; and with that provider off the chain (a keyed provider
# named without a server key: only users' own keys), which shows the server's own footprint.
RSS_SETUPS: dict[str, dict[str, str]] = {
    "embedded default": {},
    "embedded, offline provider off the chain (SCRIBE_AI_CHAIN=anthropic, no key)": {"SCRIBE_AI_CHAIN": "anthropic"},
}


@dataclass(frozen=True, slots=True)
class Load:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prototype", type=Path, required=True, help="built checkout of KamWit7/yt-scribe-api")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per route (default 3)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--rss-requests", type=int, default=100_000, help="requests per RSS round (default 100k)")
    parser.add_argument("--rss-rounds", type=int, default=2, help="RSS rounds (default 2: flat or growing?)")
    parser.add_argument("--rss-path", default=DICTIONARY, help=f"route of the RSS rounds (default {DICTIONARY})")
    parser.add_argument("--rss-body", help="JSON body: the RSS rounds POST it to --rss-path (a cached route)")
    args = parser.parse_args()
    for tool in ("wrk", "node"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    server_js = args.prototype / "dist" / "server.js"
    if not server_js.exists():
        print(f"{server_js} is missing: run `npm ci && npx tsc` in {args.prototype}", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: still stop the servers and drop the database
    wrk = Wrk(args.duration, args.warmup, args.connections)
    with tempfile.TemporaryDirectory(prefix="scribe-hot-path-") as tmp:
        logs = Path(tmp)
        with prototype(server_js, logs) as base:
            require_header(f"{base}{DICTIONARY}", "x-ratelimit-limit", str(NEVER_TRIPS))
            express = wrk.measure("prototype dictionary", f"{base}{DICTIONARY}")
        with scribe_on_postgres(logs) as base:
            counted = "ratelimit-limit" in httpx.get(f"{base}{DICTIONARY}", timeout=10).headers
            token = register(base)
            dictionary = wrk.measure("scribe dictionary", f"{base}{DICTIONARY}")
            profile = wrk.measure("scribe profile", f"{base}{PROFILE}", f"Authorization: Bearer {token}")
        report_loads(express, dictionary, profile, counted, args)
        for label, env in RSS_SETUPS.items():
            report_rss(label, rss_rounds(logs, args, env), args)
    return 0


@contextlib.contextmanager
def prototype(server_js: Path, logs: Path) -> Iterator[str]:
    """The prototype's server as its `npm start` runs it, its rate limiter on with a limit it never reaches."""
    port = free_port()
    env = clean_env(PORT=str(port), NODE_ENV="production", PROTOTYPE_RATE_LIMIT=str(NEVER_TRIPS))
    cmd = ["node", "-r", str(BENCH / "prototype_limit.cjs"), str(server_js)]
    with serve(cmd, env, logs / "prototype.log", port, ready_path="/api/health"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def scribe_on_postgres(logs: Path) -> Iterator[str]:
    """`scribe serve`, one worker, on a fresh PostgreSQL database and its own Redis prefix, JSON request log."""
    run_id = uuid.uuid4().hex[:10]
    database, prefix = f"scribe_bench_{run_id}", f"scribe_bench_{run_id}:"
    asyncio.run(pg_admin(f'CREATE DATABASE "{database}"'))
    try:
        env = clean_env(
            SCRIBE_ENV="development",
            SCRIBE_LOG_FORMAT="json",
            SCRIBE_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
            SCRIBE_REDIS_URL=REDIS_URL,
            SCRIBE_REDIS_PREFIX=prefix,
            SCRIBE_ANONYMOUS_REQUESTS_PER_WINDOW=str(NEVER_TRIPS),
        )
        subprocess.run([SCRIBE, "db", "upgrade"], env=env, check=True, timeout=120, stdout=subprocess.DEVNULL)
        with scribe(env, logs / "scribe-postgres.log") as (base, worker):
            settle(worker)
            yield base
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        asyncio.run(drop_redis_prefix(prefix))


@contextlib.contextmanager
def scribe(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """`scribe serve --workers=1`: its base URL and the process id of its worker."""
    port = free_port()
    cmd = [SCRIBE, "serve", "--host=127.0.0.1", f"--port={port}", "--workers=1", "--no-migrate"]
    with serve(cmd, env, log, port, ready_path="/api/health") as server:
        yield f"http://127.0.0.1:{port}", worker_of(server)


def worker_of(server: subprocess.Popen[bytes]) -> int:
    """granian's worker: the process below the server that holds the app (the largest one)."""
    children = [
        int(pid)
        for task in Path(f"/proc/{server.pid}/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    if not children:
        raise RuntimeError("granian has no worker process")
    return max(children, key=rss_mb)


def settle(pid: int, timeout: float = 120) -> None:
    """Waits until the worker idles (under 5% of a core for a second): the offline provider loads its language
    data in the background at start (seconds of CPU), which must not share the measurement."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(pid)
        if now - last < 0.05:
            return
        last = now
    raise RuntimeError(f"the server's worker was still busy {timeout:.0f} s after start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def rss_rounds(logs: Path, args: argparse.Namespace, setup: dict[str, str]) -> list[tuple[str, float]]:
    """The embedded runtime (SQLite file, no Redis): the worker's RSS at start, and after each round of requests."""
    env = clean_env(
        SCRIBE_ENV="development",
        SCRIBE_LOG_FORMAT="json",
        SCRIBE_DATABASE_URL=f"sqlite+aiosqlite:///{logs / f'embedded-{len(setup)}.db'}",
        SCRIBE_ANONYMOUS_REQUESTS_PER_WINDOW=str(NEVER_TRIPS),
        **setup,
    )
    subprocess.run([SCRIBE, "db", "upgrade"], env=env, check=True, timeout=120, stdout=subprocess.DEVNULL)
    port = free_port()
    cmd = [SCRIBE, "serve", "--host=127.0.0.1", f"--port={port}", "--workers=1", "--no-migrate"]
    with started_unasked(cmd, env, logs / "scribe-embedded.log", port) as (worker, started_mb):
        readings = [("started, no request yet", started_mb), ("after 1 request", rss_mb(worker))]
        url = f"http://127.0.0.1:{port}{args.rss_path}"
        for round_ in range(1, args.rss_rounds + 1):
            run_requests(url, args.rss_requests, args.connections, args.rss_body)
            readings.append((f"after {round_ * args.rss_requests:,} requests", rss_mb(worker)))
    return readings


@contextlib.contextmanager
def started_unasked(cmd: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[tuple[int, float]]:
    """Starts the server; once its worker idles (the app built, start-up work done) reads its RSS, before any
    request reaches it; then checks that the server answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while b"Started worker" not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {cmd}\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        worker = worker_of(proc)
        settle(worker)
        started_mb = rss_mb(worker)
        if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10).status_code != 200:
            raise RuntimeError("the embedded server does not answer /api/health")
        yield worker, started_mb
    finally:
        stop(proc)


def run_requests(url: str, count: int, connections: int, body: str | None) -> None:
    """At least `count` requests, through wrk runs of 5 s, failing on any non-2xx answer."""
    script = "wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.body = [==[{}]==]\n"
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script.format(body) if body else "")
        lua.flush()
        done = 0
        while done < count:
            cmd = ["wrk", "-t1", f"-c{connections}", "-d5s", "-s", lua.name, url]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout
            bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if bad:
                raise RuntimeError(f"RSS round: {bad.group(1)} responses were not 2xx\n{out}")
            served = re.search(r"(\d+) requests in", out)
            if not served:
                raise RuntimeError(f"cannot read wrk's output\n{out}")
            done += int(served.group(1))


def require_header(url: str, name: str, value: str) -> None:
    got = httpx.get(url, timeout=10).headers.get(name)
    if got != value:
        raise RuntimeError(f"{url}: expected {name}: {value}, got {got!r}")


class Wrk:
    def __init__(self, duration: int, warmup: int, connections: int) -> None:
        self._duration, self._warmup, self._connections = duration, warmup, connections

    def measure(self, name: str, url: str, header: str | None = None) -> Load:
        self._run(url, header, self._warmup)
        out = self._run(url, header, self._duration)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if bad:
            raise RuntimeError(f"{name}: {bad.group(1)} responses were not 2xx\n{out}")
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not rps:
            raise RuntimeError(f"{name}: cannot read wrk's output\n{out}")
        return Load(name, float(rps.group(1)), _latency(out, "50%"), _latency(out, "99%"))

    def _run(self, url: str, header: str | None, seconds: int) -> str:
        cmd = ["wrk", "-t1", f"-c{self._connections}", f"-d{seconds}s", "--latency"]
        cmd += ["-H", header] if header else []
        return subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 30).stdout


def _latency(out: str, pct: str) -> float:
    found = re.search(rf"^\s+{pct}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not found:
        raise RuntimeError(f"no {pct} latency in wrk's output\n{out}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_loads(express: Load, dictionary: Load, profile: Load, counted: bool, args: argparse.Namespace) -> None:
    print(f"\nwrk -t1 -c{args.connections}, {args.duration} s per row after {args.warmup} s of warm-up")
    print(f"{'':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for load in (express, dictionary, profile):
        print(f"{load.name:<22} {load.rps:>8.0f} {load.p50_ms:>8.2f} {load.p99_ms:>8.2f}")

    ratio = dictionary.rps / express.rps
    target = TARGET_ANONYMOUS_VS_PROTOTYPE if counted else TARGET_VS_PROTOTYPE
    limiter = "counted by our limiter" if counted else "not rate limited on this route"
    print(f"\nscribe / prototype, GET {DICTIONARY} ({limiter}):")
    print(f"  req/s {ratio:.2f}x (target >= {target}x: {verdict(ratio >= target)})")
    lower = dictionary.p99_ms < express.p99_ms
    print(f"  p99 {dictionary.p99_ms:.2f} vs {express.p99_ms:.2f} ms (target lower: {verdict(lower)})")
    tail = profile.p99_ms / dictionary.p99_ms
    target_tail = TARGET_PROFILE_P99_VS_DICTIONARY
    print(f"profile p99 / dictionary p99: {tail:.2f}x (target <= {target_tail}x: {verdict(tail <= target_tail)})")


def report_rss(label: str, rss: list[tuple[str, float]], args: argparse.Namespace) -> None:
    route = f"{'POST' if args.rss_body else 'GET'} {args.rss_path}"
    print(f"\nRSS of one worker, {label}; {route} at {args.connections} connections:")
    for label, mb in rss:
        print(f"  {label:<28} {mb:7.1f} MB")
    worst = max(mb for _, mb in rss)
    print(f"  target < {TARGET_RSS_MB:.0f} MB throughout: {verdict(worst < TARGET_RSS_MB)}")


if __name__ == "__main__":
    sys.exit(main())
