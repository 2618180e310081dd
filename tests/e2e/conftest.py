"""The real app over HTTP (Litestar's TestClient), on the embedded stack and on PostgreSQL + Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

import msgspec
import pytest
from dishka import Provider, Scope, provide
from litestar.testing import TestClient

from application.accounts.admin import AccountChanges, ChangeAccount
from application.email import DeliverQueuedEmails
from application.ports import EmailMessage, EmailTransport
from domain.users import Role
from infrastructure.bootstrap.settings import Settings
from interfaces.http.app import create_app
from tests import services
from tests.conftest import make_settings
from tests.fakes.llm_server import FakeLLMServer

PASSWORD = "violet kettle umbrella 42"
SERVER_KEYS = {"anthropic": "server-anthropic-key", "openai": "server-openai-key", "gemini": "server-gemini-key"}
T = TypeVar("T")


@pytest.fixture(params=["embedded", "postgres+redis"])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "embedded":
        return make_settings(database_url=request.getfixturevalue("sqlite_url"))
    return make_settings(
        database_url=request.getfixturevalue("postgres_url"),
        redis_url=request.getfixturevalue("redis_url"),
        redis_prefix=f"scribe-test-{services.RUN_ID}:{uuid.uuid4().hex[:8]}:",
    )


class Mailbox(Provider):
    """Replaces the e-mail transport: what the outbox relay delivers lands in `sent`."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[EmailMessage] = []

    @provide(scope=Scope.APP)
    def transport(self) -> EmailTransport:
        mailbox = self

        class Recording:
            async def deliver(self, message: EmailMessage) -> None:
                mailbox.sent.append(message)

        return Recording()


class Api:
    """A TestClient with the few steps most tests start from."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client

    def register(self, email: str | None = None, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        email = email or unique_email()
        response = self.client.post("/api/v1/auth/register", json={"email": email, "password": password, **extra})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def deliver_mail(self) -> None:
        """Runs the outbox relay once, as the server's background loop does."""
        self.use_case(DeliverQueuedEmails)

    def use_case(self, kind: type[T], *args: Any) -> Any:
        """Runs a use case from the app's own container, in the app's loop (as `scribe` commands would)."""

        async def call() -> Any:
            async with self.client.app.state.dishka_container() as scope:
                return await (await scope.get(kind))(*args)

        return self.client.blocking_portal.call(call)

    def make_admin(self) -> str:
        """Promotes a fresh user through the same use case `scribe users` runs, and returns its access token."""
        tokens = self.register()
        self.use_case(ChangeAccount, tokens["user"]["email"], AccountChanges(role=Role.ADMIN))
        token: str = tokens["access_token"]
        return token

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


def unique_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ai_settings(settings: Settings, fake: FakeLLMServer, **extra: Any) -> Settings:
    """`settings` with anthropic then openai served by the fake provider, a short timeout and a quick breaker."""
    values: dict[str, Any] = {
        "anthropic_api_key": SERVER_KEYS["anthropic"],
        "anthropic_base_url": fake.url,
        "openai_api_key": SERVER_KEYS["openai"],
        "openai_base_url": f"{fake.url}/v1",
        "ai_chain": ["anthropic", "openai"],
        "ai_timeout_seconds": 3.0,  # generous: a loaded CI box must not turn a fast answer into a fallback
        "ai_breaker_failures": 2,
        "ai_breaker_cooldown_seconds": 60.0,
    }
    return msgspec.structs.replace(settings, **{**values, **extra})


def make_client(settings: Settings, *providers: Provider) -> TestClient[Any]:
    return TestClient(create_app(settings, *providers), raise_server_exceptions=False)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def api(settings: Settings, mailbox: Mailbox) -> Iterator[Api]:
    with make_client(settings, mailbox) as client:
        yield Api(client)
