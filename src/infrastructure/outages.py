"""Which failures mean "a dependency is down" (Redis, the database), and logging them once per outage.

During an outage every request fails the same way; a warning (no traceback) when the outage starts is what an
operator needs, not one stack trace per request."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import exc as sql

log = structlog.get_logger("scribe.outage")

# PostgreSQL error classes 08 (connection exception) and 57 (operator intervention: shutting down, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "57")
_DATABASE_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite")
# An outage is over when its dependency has failed nobody for this long; the next failure is a new outage.
QUIET_SECONDS = 10.0


def unavailable_dependency(error: BaseException) -> str | None:
    """ "redis" or "database" when `error` says that dependency cannot be reached now; None for anything else."""
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return "redis"
    if isinstance(error, sql.DBAPIError):
        if error.connection_invalidated or isinstance(error, sql.OperationalError | sql.InterfaceError):
            return "database"
        return "database" if _sqlstate(error.orig).startswith(_UNAVAILABLE_SQLSTATES) else None
    if isinstance(error, sql.TimeoutError):  # no pooled connection came free in time
        return "database"
    # asyncpg's connect errors reach us unwrapped (refused, timed out, "the database system is starting up").
    if type(error).__module__.startswith("asyncpg") and _sqlstate(error).startswith(_UNAVAILABLE_SQLSTATES):
        return "database"
    if isinstance(error, ConnectionError | TimeoutError) and _raised_within(error, _DATABASE_MODULES):
        return "database"
    return None


def _sqlstate(error: BaseException | None) -> str:
    return str(getattr(error, "sqlstate", None) or getattr(error, "pgcode", None) or "")


def _raised_within(error: BaseException, modules: tuple[str, ...]) -> bool:
    trace = error.__traceback__
    while trace is not None:
        if str(trace.tb_frame.f_globals.get("__name__", "")).startswith(modules):
            return True
        trace = trace.tb_next
    return False


class OutageLog:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_failure: dict[str, float] = {}

    def failed(self, dependency: str, error: BaseException) -> None:
        now = self._clock()
        last = self._last_failure.get(dependency)
        self._last_failure[dependency] = now
        if last is None or now - last > QUIET_SECONDS:
            log.warning("dependency_unavailable", dependency=dependency, error=type(error).__name__)


# One per process: every caller that meets an outage reports it here.
outages = OutageLog()
