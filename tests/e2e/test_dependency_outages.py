"""Redis dies under two API processes (app instances sharing a test-owned redis-server and PostgreSQL): a
revoked session stays revoked, nothing answers 500, limits go on in each process's memory, a write that was
applied answers as applied, and everything recovers without a user-visible error once Redis is back, although it
came back empty."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from litestar.testing import TestClient
from redis import Redis

from infrastructure.bootstrap.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import PASSWORD, Api, bearer, make_client
from tests.own_services import OwnRedis

TRANSCRIPT = (
    "Urban heat islands form when cities replace soil and trees with asphalt and concrete. "
    "Those surfaces absorb sunlight during the day and release the heat at night. "
    "Planting trees and painting roofs white are two cheap ways to cool a neighbourhood. "
) * 3


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def settings(postgres_url: str, own_redis: OwnRedis) -> Settings:
    return make_settings(
        database_url=postgres_url,
        redis_url=own_redis.url,
        redis_prefix=f"outage-{uuid.uuid4().hex[:8]}:",
        user_cache_seconds="60",  # only announcements (or their absence) can explain what the tests see
        revocation_relay_seconds="0.2",
    )


def _profile(client: TestClient[Any], token: str) -> int:
    return client.get("/api/v1/auth/profile", headers=bearer(token)).status_code


def _within(seconds: float, condition: Any, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def test_a_refresh_replayed_while_redis_is_down_revokes_for_good_on_every_process(
    settings: Settings, own_redis: OwnRedis
) -> None:
    """Seen: the replay answered 500, the deny-list write was lost, and after Redis came back the thief's
    access token worked on both processes for the rest of its life."""
    with make_client(settings) as first, make_client(settings) as second:
        stolen = Api(first).register()
        thief = first.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}).json()["data"]
        assert _profile(second, thief["access_token"]) == 200

        own_redis.kill()
        replay = first.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
        assert replay.status_code == 401, replay.text
        assert replay.json()["code"] == "invalid_refresh_token"
        for client in (first, second):  # during the outage: answered from the database
            assert _profile(client, thief["access_token"]) == 401

        own_redis.start()  # empty: it kept nothing
        time.sleep(1.5)  # both processes resubscribe and reload
        for client in (first, second):
            assert _profile(client, thief["access_token"]) == 401


def test_a_process_started_after_redis_lost_its_data_still_refuses_a_logged_out_token(
    settings: Settings, own_redis: OwnRedis
) -> None:
    with make_client(settings) as first:
        tokens = Api(first).register()
        assert first.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 200
    own_redis.kill()
    own_redis.start()
    with make_client(settings) as newcomer:
        assert _profile(newcomer, tokens["access_token"]) == 401


def test_redis_down_leaves_logins_and_limits_working_logged_once_and_recovery_is_invisible(
    settings: Settings, own_redis: OwnRedis
) -> None:
    """Seen: every login, JWT request and anonymous process call answered 500 with a traceback each; after the
    restart a stale pooled connection gave one more 500; an admin disable was applied but answered 500. Then
    they answered 503 while Redis was down: the limits they need are counted in memory meanwhile."""
    with make_client(settings) as first, make_client(settings) as second:
        user = Api(first).register()
        victim = Api(first).register()
        admin = Api(first).make_admin()
        login = {"email": user["user"]["email"], "password": PASSWORD}
        assert second.post("/api/v1/auth/login", json=login).status_code == 200
        assert _profile(second, victim["access_token"]) == 200  # cached there

        own_redis.kill()
        with structlog.testing.capture_logs() as logs:
            answers = []
            for _ in range(5):
                answers.append(first.post("/api/v1/auth/login", json=login))
                answers.append(
                    second.post("/api/ai/process-transcript", json={"transcript": TRANSCRIPT, "purpose": "learning"})
                )
                assert _profile(second, user["access_token"]) == 200  # reads need no Redis
            disable = first.patch(
                f"/api/v1/admin/users/{victim['user']['id']}", json={"disabled": True}, headers=bearer(admin)
            )
        assert {a.status_code for a in answers} == {200}
        assert disable.status_code == 200, disable.text  # it was committed: say so
        assert _profile(second, victim["access_token"]) == 401  # its cache is not trusted while out of step
        # One warning per outage and process at most (the outage log is per process, and an earlier test's
        # outage may still be in its window), never a traceback per request.
        assert len([line for line in logs if line["event"] == "dependency_unavailable"]) <= 1
        assert not [line for line in logs if line.get("exc_info") or line["log_level"] == "error"]

        own_redis.start()
        restarted = time.monotonic()
        _within(2, lambda: first.post("/api/v1/auth/login", json=login).status_code == 200, "no login in 2 s")
        assert time.monotonic() - restarted < 2
        for client in (first, second):  # every pooled connection is stale now: none of it shows
            for _ in range(3):
                assert client.post("/api/v1/auth/login", json=login).status_code == 200
            assert _profile(client, victim["access_token"]) == 401


def test_limits_hold_in_memory_while_redis_is_down_and_are_shared_again_once_it_is_back(
    postgres_url: str, own_redis: OwnRedis
) -> None:
    prefix = f"limits-{uuid.uuid4().hex[:8]}:"
    settings = make_settings(
        database_url=postgres_url,
        redis_url=own_redis.url,
        redis_prefix=prefix,
        tier_free_requests_per_minute="3",
        login_failures_per_account_ip="2",
    )
    answers: list[int] = []

    def process(client: TestClient[Any], token: str) -> Any:
        response = client.post("/api/v1/process", json={"transcript": TRANSCRIPT}, headers=bearer(token))
        answers.append(response.status_code)
        return response

    def wrong_login(client: TestClient[Any], email: str) -> int:
        status = client.post("/api/v1/auth/login", json={"email": email, "password": "not the password"}).status_code
        answers.append(status)
        return status

    with make_client(settings) as first, make_client(settings) as second:
        user = Api(first).register()
        token, email = user["access_token"], user["user"]["email"]
        assert process(first, token).headers["RateLimit-Remaining"] == "2"
        assert process(second, token).headers["RateLimit-Remaining"] == "1"  # one count for both processes

        own_redis.kill()
        # Each process counts on its own now, still within the tier's rate.
        assert [process(first, token).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert [wrong_login(second, email) for _ in range(3)] == [401, 401, 429]  # auth throttles too

        own_redis.start()  # empty
        time.sleep(1.2)  # the pause before Redis is asked again
        other = Api(first).register()
        assert process(first, other["access_token"]).headers["RateLimit-Remaining"] == "2"
        assert process(second, other["access_token"]).headers["RateLimit-Remaining"] == "1"  # shared again
        redis = Redis.from_url(own_redis.url)
        try:
            assert redis.exists(f"{prefix}rate:user:{other['user']['id']}")  # counted in Redis, not in memory
        finally:
            redis.close()
    assert not [status for status in answers if status >= 500]
