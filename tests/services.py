"""The real PostgreSQL and Redis of this machine: one fresh database and one key prefix per test run.

Unreachable services skip their tests, unless TESTS_REQUIRE_SERVICES=1 (CI), where they fail the run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

PG_ADMIN_DSN = os.environ.get("TESTS_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TESTS_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRED = os.environ.get("TESTS_REQUIRE_SERVICES") == "1"
RUN_ID = uuid.uuid4().hex[:10]


def unavailable(service: str, error: Exception) -> None:
    message = f"{service} is unreachable: {error!r}"
    if REQUIRED:
        pytest.fail(f"{message} (TESTS_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_pg_database(label: str) -> str:
    """Creates `scribe_test_<run>_<label>` and returns its SQLAlchemy URL."""
    name = f"scribe_test_{RUN_ID}_{label}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    host_part = PG_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host_part}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def check_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    finally:
        client.close()


def drop_redis_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


SCRIBE = str(Path(sys.executable).with_name("scribe"))  # this environment's console script


def clean_env(**settings: str) -> dict[str, str]:
    """The caller's environment without its SCRIBE_* settings, plus `settings`: for `scribe` subprocesses."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("SCRIBE_")}, **settings}


def wait_until_serving(process: subprocess.Popen[bytes], base: str, log: Path | None = None) -> None:
    """Returns once a `scribe serve` process answers /api/health; kills it and fails the test if it exits or has
    not answered within 30 s (with its log, when it writes one)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("server did not start" + (f":\n{log.read_text()}" if log else ""))
        time.sleep(0.2)


def run_scribe(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """One `scribe` command to its end, as a user runs it."""
    return subprocess.run(  # noqa: S603 - our own console script
        [SCRIBE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


# The newest migration's revision id (files are named NNNN_what.py), for tests that check "upgraded to head".
HEAD_REVISION = max(p.name[:4] for p in (Path(__file__).parents[1] / "migrations" / "versions").glob("[0-9]*.py"))
