"""Guesses from strangers cannot lock an account's owner out, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession

from application.ports import UserRepository
from infrastructure.bootstrap.settings import Settings
from infrastructure.persistence.repositories import SqlUserRepository
from tests.conftest import make_settings
from tests.e2e.conftest import PASSWORD, Api, Mailbox, make_client


@pytest.fixture
def proxied(settings: Settings, mailbox: Mailbox) -> Iterator[Api]:
    """Behind one trusted proxy, so each test can speak from many addresses."""
    shared = {"redis_url": settings.redis_url, "redis_prefix": settings.redis_prefix} if settings.redis_url else {}
    behind_proxy = make_settings(
        database_url=settings.database_url, trusted_proxy_hops="1", login_failures_per_account="10", **shared
    )
    with make_client(behind_proxy, mailbox) as client:
        yield Api(client)


def _login(api: Api, email: str, password: str, address: str, device: str | None = None) -> int:
    body = {"email": email, "password": password, **({"device_token": device} if device else {})}
    response = api.client.post("/api/v1/auth/login", json=body, headers={"X-Forwarded-For": address})
    return response.status_code


def test_a_device_that_logged_in_before_gets_in_through_a_lockout(proxied: Api) -> None:
    email = proxied.register()["user"]["email"]
    device = proxied.login(email)["device_token"]
    for n in range(10):
        assert _login(proxied, email, "wrong password here", f"10.1.0.{n}") == 401
    assert _login(proxied, email, PASSWORD, "10.9.9.9") == 429  # a stranger's client, even with the password
    assert _login(proxied, email, PASSWORD, "10.9.9.9", device) == 200  # the owner's laptop, on a new network
    assert _login(proxied, email, PASSWORD, "10.9.9.9", "made-up.token") == 429


def test_forgot_password_requests_cannot_block_the_owner(proxied: Api, mailbox: Mailbox) -> None:
    email = proxied.register()["user"]["email"]
    for n in range(12):
        response = proxied.client.post(
            "/api/v1/auth/forgot-password", json={"email": email}, headers={"X-Forwarded-For": f"10.2.0.{n}"}
        )
        assert response.status_code == 202
    proxied.deliver_mail()
    assert len(mailbox.sent) == 5  # SCRIBE_RESET_REQUESTS_PER_ACCOUNT mails per link lifetime, no more


class _UsersOutage(Provider):
    """The user table stops answering while `down` is set, as during a database restart."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    @provide(scope=Scope.REQUEST)
    def users(self, session: AsyncSession) -> UserRepository:
        outage = self
        real = SqlUserRepository(session)

        class DuringOutage:
            def __getattr__(self, name: str) -> Any:
                if outage.down:
                    raise ConnectionRefusedError("database restarting")
                return getattr(real, name)

        return DuringOutage()  # type: ignore[return-value]


def test_an_outage_during_logins_is_not_a_lockout(settings: Settings, mailbox: Mailbox) -> None:
    outage = _UsersOutage()
    with make_client(settings, mailbox, outage) as client:
        api = Api(client)
        email = api.register()["user"]["email"]
        outage.down = True
        for _ in range(8):  # more than the 5 failures one address may have at one account
            assert _login(api, email, PASSWORD, "testclient") >= 500
        outage.down = False
        assert _login(api, email, PASSWORD, "testclient") == 200
