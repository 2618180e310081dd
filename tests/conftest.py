from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.bootstrap.settings import Settings, load_settings
from infrastructure.persistence import migrations
from tests import services
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.youtube_server import FakeYouTube

TEST_DEFAULTS = {
    # Cheap argon2 so the suite is fast; the real parameters are exercised by the bench and one hasher test.
    "SCRIBE_ARGON2_MEMORY_KIB": "256",
    "SCRIBE_ARGON2_TIME_COST": "1",
    # Every test registers from the same client address; the registration limit has a test of its own.
    "SCRIBE_REGISTRATIONS_PER_IP": "1000000",
    # Tests deliver the outbox themselves (see tests/e2e/conftest.py), so the relay only runs at start-up.
    "SCRIBE_EMAIL_RELAY_SECONDS": "3600",
    # Most processing tests repeat identical requests to watch what the providers do with each: the result cache
    # would answer them. The cache's own tests (tests/e2e/test_result_cache.py) turn it on.
    "SCRIBE_RESULT_CACHE_SECONDS": "0",
}


def make_settings(**overrides: str) -> Settings:
    environ = {"SCRIBE_ENV": "test", **TEST_DEFAULTS, **{f"SCRIBE_{k.upper()}": v for k, v in overrides.items()}}
    return load_settings(environ, config_dir=Path("/nonexistent"))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'scribe.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        url = services.create_pg_database("main")
    except Exception as error:
        services.unavailable("PostgreSQL", error)
    migrations.upgrade(url)
    yield url
    services.drop_pg_database(url)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    try:
        services.check_redis()
    except Exception as error:
        services.unavailable("Redis", error)
    yield services.REDIS_URL
    services.drop_redis_prefix(f"scribe-test-{services.RUN_ID}:")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


# The loopback fakes of the outside services: one server each for the whole run, handed to each test as new.


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def llm(llm_server: FakeLLMServer) -> FakeLLMServer:
    """The fake AI provider (Anthropic's and OpenAI's wire formats), with no recordings, script or key rules."""
    llm_server.reset()
    return llm_server


@pytest.fixture(scope="session")
def youtube_server() -> Iterator[FakeYouTube]:
    with FakeYouTube() as server:
        yield server


@pytest.fixture
def youtube(youtube_server: FakeYouTube) -> FakeYouTube:
    """The fake YouTube, with no videos and no recordings."""
    youtube_server.reset()
    return youtube_server
