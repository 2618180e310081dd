"""BYOK over HTTP: a key goes in after the provider accepts it; only its masked hint ever comes out, in no
response, error or log line; each user has their own keys."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from dishka import Provider, Scope, provide
from httpx import Response
from rich.pretty import pretty_repr

from application.accounts.ports import UserProviderKeys
from application.errors import ProviderFailure
from application.processing.catalog import ProviderCatalog
from application.processing.ports import ApiKey
from infrastructure.bootstrap.settings import Settings
from interfaces.http.controllers.api_keys import ProviderKeyBody
from tests.e2e.conftest import Api, Mailbox, bearer, make_client
from tests.unit.fakes import KeyCheckingProvider, key_checking_catalog

GOOD = "good-e2e-0123456789abcdefXYZ"
REJECTED = "nope-e2e-0123456789abcdefXYZ"
KEYS = "/api/v1/me/api-keys"


class FakeCatalog(Provider):
    """The server's providers replaced by ones that only check keys (see KeyCheckingProvider)."""

    def __init__(self, catalog: ProviderCatalog) -> None:
        super().__init__()
        self._catalog = catalog

    @provide(scope=Scope.APP)
    def catalog(self) -> ProviderCatalog:
        return self._catalog


@pytest.fixture
def catalog() -> ProviderCatalog:
    return key_checking_catalog()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every structlog line the app writes meanwhile, rendered (tracebacks included) and unredacted."""
    rendered = io.StringIO()
    previous = structlog.get_config()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(rendered),
        cache_logger_on_first_use=False,
    )
    yield rendered
    structlog.configure(**previous)


@pytest.fixture
def api(settings: Settings, mailbox: Mailbox, catalog: ProviderCatalog, logs: io.StringIO) -> Iterator[Api]:
    with make_client(settings, mailbox, FakeCatalog(catalog)) as client:
        yield Api(client)


def _put(api: Api, access: str, provider: str, body: Any) -> Response:
    return api.client.put(f"{KEYS}/{provider}", json=body, headers=bearer(access))


def _listed(api: Api, access: str) -> list[dict[str, Any]]:
    response = api.client.get(KEYS, headers=bearer(access))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


def _stored(api: Api, user_id: str) -> dict[str, ApiKey]:
    """What processing would get for the user: their keys, decrypted by the app's own container."""

    async def read() -> dict[str, ApiKey]:
        async with api.client.app.state.dishka_container() as scope:
            return dict(await (await scope.get(UserProviderKeys)).for_user(uuid.UUID(user_id)))

    return api.client.blocking_portal.call(read)


def _assert_never_shown(
    secret: str, responses: list[Response], logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    assert '"request"' in logs.getvalue()  # the capture works
    for response in responses:
        assert secret not in response.text
    assert secret not in logs.getvalue()
    assert secret not in caplog.text


def test_a_key_is_saved_listed_as_a_hint_used_and_deleted(
    api: Api, logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    registered = api.register()
    access, user_id = registered["access_token"], registered["user"]["id"]

    saved = _put(api, access, "anthropic", {"api_key": GOOD})
    assert saved.status_code == 200, saved.text
    info = saved.json()["data"]
    assert info["provider"] == "anthropic"
    assert info["hint"] == "good…fXYZ"
    assert info["key_version"] == "dev"  # the test settings configure no keyring
    assert info["updated_at"]
    assert _listed(api, access) == [info]
    assert _stored(api, user_id) == {"anthropic": ApiKey(GOOD)}

    replaced = _put(api, access, "anthropic", {"api_key": "good-replacement-key-42"})
    assert replaced.json()["data"]["hint"] == "good…y-42"
    assert _stored(api, user_id)["anthropic"].secret == "good-replacement-key-42"

    deleted = api.client.delete(f"{KEYS}/anthropic", headers=bearer(access))
    assert deleted.status_code == 204
    assert _listed(api, access) == []
    assert _stored(api, user_id) == {}
    again = api.client.delete(f"{KEYS}/anthropic", headers=bearer(access))
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"

    listing = api.client.get(KEYS, headers=bearer(access))
    _assert_never_shown(GOOD, [saved, replaced, listing, deleted, again], logs, caplog)


def test_a_key_the_provider_rejects_is_422_and_not_stored(
    api: Api, catalog: ProviderCatalog, logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    registered = api.register()
    access = registered["access_token"]

    rejected = _put(api, access, "openai", {"api_key": REJECTED})
    assert rejected.status_code == 422
    assert rejected.json() == {
        "success": False,
        "error": "openai rejected this API key",
        "code": "provider_key_rejected",
        "request_id": rejected.headers["x-request-id"],
    }
    adapter = catalog.adapters["openai"]
    assert isinstance(adapter, KeyCheckingProvider)
    assert adapter.checks == 1
    assert _listed(api, access) == []
    assert _stored(api, registered["user"]["id"]) == {}
    _assert_never_shown(REJECTED, [rejected], logs, caplog)


def test_a_key_is_not_stored_when_the_provider_cannot_be_asked(
    api: Api, catalog: ProviderCatalog, logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    access = api.register()["access_token"]
    adapter = catalog.adapters["anthropic"]
    assert isinstance(adapter, KeyCheckingProvider)
    adapter.failure = ProviderFailure("anthropic", "connection")

    unreachable = _put(api, access, "anthropic", {"api_key": GOOD})
    assert unreachable.status_code == 502
    assert unreachable.json()["code"] == "provider_unavailable"
    assert _listed(api, access) == []
    _assert_never_shown(GOOD, [unreachable], logs, caplog)


@pytest.mark.parametrize(
    ("provider", "body", "fields"),
    [
        ("nope", {"api_key": GOOD}, {"provider"}),
        ("local", {"api_key": GOOD}, {"provider"}),  # the offline provider takes no key
        ("p" * 51, {"api_key": GOOD}, {"provider"}),
        ("anthropic", {"api_key": "good-1"}, {"api_key"}),
        ("anthropic", {"api_key": "good- with spaces -" + GOOD}, {"api_key"}),
        ("anthropic", {"api_key": GOOD + "\n"}, {"api_key"}),
        ("anthropic", {"api_key": "good-" + "x" * 600}, {"api_key"}),
        ("anthropic", {"api_key": "good-" + "x" * 2000}, {"api_key"}),  # past the body's shape limit
        ("nope", {"api_key": "x"}, {"provider", "api_key"}),
        ("anthropic", {}, {"api_key"}),
        ("anthropic", {"api_key": 12345678}, {"api_key"}),
        ("anthropic", {"api_key": GOOD, "key": GOOD}, {"key"}),
    ],
)
def test_bad_providers_and_implausible_keys_are_400_and_not_echoed(
    api: Api,
    catalog: ProviderCatalog,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    provider: str,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    access = api.register()["access_token"]
    response = _put(api, access, provider, body)
    assert response.status_code == 400, response.text
    assert {d["field"] for d in response.json()["details"]} == fields
    assert all(isinstance(a, KeyCheckingProvider) and a.checks == 0 for a in catalog.adapters.values())
    assert _listed(api, access) == []
    for value in body.values():
        if isinstance(value, str):
            _assert_never_shown(value, [response], logs, caplog)


def test_keys_are_private_to_their_owner(api: Api) -> None:
    ada = api.register()
    bob = api.register()
    assert _put(api, ada["access_token"], "anthropic", {"api_key": GOOD}).status_code == 200

    assert _listed(api, bob["access_token"]) == []
    refused = api.client.delete(f"{KEYS}/anthropic", headers=bearer(bob["access_token"]))
    assert refused.status_code == 404
    assert [k["provider"] for k in _listed(api, ada["access_token"])] == ["anthropic"]

    # Bob's own key for the same provider lives beside Ada's, not over it.
    assert _put(api, bob["access_token"], "anthropic", {"api_key": "good-bobs-own-key"}).status_code == 200
    assert _stored(api, ada["user"]["id"])["anthropic"].secret == GOOD
    assert _stored(api, bob["user"]["id"])["anthropic"].secret == "good-bobs-own-key"


def test_api_tokens_need_the_write_scope_to_change_keys(api: Api) -> None:
    session = api.register()["access_token"]
    created = api.client.post("/api/v1/me/tokens", json={"name": "ro", "scopes": ["read"]}, headers=bearer(session))
    read_only = created.json()["data"]["token"]

    assert _put(api, read_only, "anthropic", {"api_key": GOOD}).status_code == 403
    assert _listed(api, read_only) == []
    assert _put(api, session, "anthropic", {"api_key": GOOD}).status_code == 200
    assert api.client.delete(f"{KEYS}/anthropic", headers=bearer(read_only)).status_code == 403
    assert len(_listed(api, read_only)) == 1


def test_keys_need_authentication(api: Api) -> None:
    assert api.client.get(KEYS).status_code == 401
    assert api.client.put(f"{KEYS}/anthropic", json={"api_key": GOOD}).status_code == 401
    assert api.client.delete(f"{KEYS}/anthropic").status_code == 401


def test_the_body_never_shows_the_key_in_its_repr() -> None:
    body = ProviderKeyBody(api_key=GOOD)
    assert GOOD not in repr(body)
    assert GOOD not in str(body)
    assert GOOD not in pretty_repr(body)
