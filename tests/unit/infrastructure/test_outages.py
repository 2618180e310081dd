"""Which failures count as a dependency outage, and that an outage is logged once, not once per request."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import exc as sql
from sqlalchemy.ext.asyncio import create_async_engine

from infrastructure.outages import QUIET_SECONDS, OutageLog, unavailable_dependency


class _Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_logged_when_it_starts_and_again_only_after_a_quiet_spell() -> None:
    clock = _Clock()
    outages = OutageLog(clock)
    with structlog.testing.capture_logs() as logs:
        for _ in range(1000):  # a thousand requests fail during one outage
            outages.failed("redis", RedisConnectionError("refused"))
            clock.now += 0.01
        outages.failed("database", OSError())
        clock.now += QUIET_SECONDS + 1
        outages.failed("redis", RedisConnectionError("refused"))  # a new outage
    assert [(line["dependency"], line["error"]) for line in logs] == [
        ("redis", "ConnectionError"),
        ("database", "OSError"),
        ("redis", "ConnectionError"),
    ]


def test_an_unreachable_database_counts_as_an_outage_and_a_bad_query_does_not() -> None:
    async def connect() -> BaseException:
        engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
        try:
            async with engine.connect():
                pass
        except Exception as error:
            return error
        finally:
            await engine.dispose()
        raise AssertionError("connected to port 1")

    assert unavailable_dependency(asyncio.run(connect())) == "database"
    assert unavailable_dependency(RedisConnectionError("refused")) == "redis"
    assert unavailable_dependency(sql.IntegrityError("insert", {}, Exception("duplicate"))) is None
    assert unavailable_dependency(ConnectionRefusedError()) is None  # not raised by a database driver
    with pytest.raises(ZeroDivisionError) as caught:
        _ = 1 / 0
    assert unavailable_dependency(caught.value) is None
