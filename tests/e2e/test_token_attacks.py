"""What an attacker tries with tokens, over HTTP. Every attempt is a 401 in the envelope."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from infrastructure.bootstrap.settings import Settings
from tests import services
from tests.conftest import make_settings
from tests.e2e.conftest import Api, bearer, make_client


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _assert_refused(api: Api, token: str) -> None:
    response = api.client.get("/api/v1/auth/profile", headers=bearer(token))
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_alg_none_is_refused(api: Api) -> None:
    claims = _claims_of(api.register()["access_token"])
    _assert_refused(api, f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.")


def test_a_token_signed_with_another_key_is_refused(api: Api) -> None:
    claims = _claims_of(api.register()["access_token"])
    _assert_refused(api, jwt.encode(claims, "an attacker's key that is long enough", algorithm="HS256"))


@pytest.mark.parametrize(("claim", "value"), [("aud", "another-api"), ("typ", "refresh"), ("iss", "elsewhere")])
def test_wrong_audience_type_or_issuer_is_refused(api: Api, settings: Settings, claim: str, value: str) -> None:
    claims = _claims_of(api.register()["access_token"]) | {claim: value}
    _assert_refused(api, jwt.encode(claims, settings.secret_key, algorithm="HS256"))


def test_an_expired_token_is_refused(api: Api, settings: Settings) -> None:
    claims = _claims_of(api.register()["access_token"])
    claims["exp"] = int((datetime.now(UTC) - timedelta(seconds=1)).timestamp())
    _assert_refused(api, jwt.encode(claims, settings.secret_key, algorithm="HS256"))


def test_a_token_for_a_user_that_does_not_exist_is_refused(api: Api, settings: Settings) -> None:
    claims = _claims_of(api.register()["access_token"]) | {"sub": str(uuid.uuid4())}
    _assert_refused(api, jwt.encode(claims, settings.secret_key, algorithm="HS256"))


def test_a_refresh_token_is_not_an_access_token(api: Api) -> None:
    _assert_refused(api, api.register()["refresh_token"])


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_missing_or_foreign_authorization_schemes_are_refused(api: Api, header: str) -> None:
    response = api.client.get("/api/v1/auth/profile", headers={"Authorization": header} if header else {})
    assert response.status_code == 401


def test_an_access_token_is_dead_right_after_logout(api: Api) -> None:
    tokens = api.register()
    assert api.client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 200
    _assert_refused(api, tokens["access_token"])


def test_logout_is_seen_by_another_api_process(postgres_url: str, redis_url: str) -> None:
    """Two app instances (as two processes would be) share revoked sessions through Redis: the process that
    logged out refuses the token at once; the other as soon as the pub/sub message lands (milliseconds)."""
    settings = make_settings(
        database_url=postgres_url, redis_url=redis_url, redis_prefix=f"scribe-test-{services.RUN_ID}:two:"
    )
    with make_client(settings) as first, make_client(settings) as second:
        tokens = Api(first).register()
        assert second.get("/api/v1/auth/profile", headers=bearer(tokens["access_token"])).status_code == 200
        first.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        assert first.get("/api/v1/auth/profile", headers=bearer(tokens["access_token"])).status_code == 401
        deadline = time.monotonic() + 1
        while second.get("/api/v1/auth/profile", headers=bearer(tokens["access_token"])).status_code != 401:
            assert time.monotonic() < deadline, "the other process still accepts the token after 1 s"
            time.sleep(0.01)


def test_a_reused_refresh_token_revokes_its_family(api: Api) -> None:
    stolen = api.register()
    legit = api.client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}).json()["data"]

    replay = api.client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json()["code"] == "invalid_refresh_token"
    after = api.client.post("/api/v1/auth/refresh", json={"refresh_token": legit["refresh_token"]})
    assert after.status_code == 401


def test_a_disabled_user_is_locked_out(api: Api) -> None:

    victim = api.register()
    admin = api.make_admin()
    response = api.client.patch(
        f"/api/v1/admin/users/{victim['user']['id']}", json={"disabled": True}, headers=bearer(admin)
    )
    assert response.status_code == 200
    assert response.json()["data"]["disabled"] is True

    _assert_refused(api, victim["access_token"])
    assert api.client.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}).status_code == 401
    login = api.client.post(
        "/api/v1/auth/login", json={"email": victim["user"]["email"], "password": "violet kettle umbrella 42"}
    )
    assert login.status_code == 403
    assert login.json()["code"] == "account_disabled"


def test_disabling_a_user_reaches_another_api_process_before_its_cache_expires(
    postgres_url: str, redis_url: str
) -> None:
    from application.accounts.admin import AccountChanges, ChangeAccount

    settings = make_settings(
        database_url=postgres_url,
        redis_url=redis_url,
        redis_prefix=f"scribe-test-{services.RUN_ID}:disable:",
        user_cache_seconds="60",  # so only the broadcast invalidation can explain a quick refusal
    )
    with make_client(settings) as first, make_client(settings) as second:
        tokens = Api(first).register()
        assert second.get("/api/v1/auth/profile", headers=bearer(tokens["access_token"])).status_code == 200
        Api(first).use_case(ChangeAccount, tokens["user"]["email"], AccountChanges(disabled=True))
        deadline = time.monotonic() + 1
        while second.get("/api/v1/auth/profile", headers=bearer(tokens["access_token"])).status_code != 401:
            assert time.monotonic() < deadline, "the other process still serves the disabled user after 1 s"
            time.sleep(0.01)
