"""The whole account lifecycle over HTTP, on both paths (canonical and the prototype's)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PASSWORD, Api, Mailbox, bearer, unique_email


@pytest.mark.parametrize("prefix", ["/api/v1/auth", "/api/auth"])
def test_register_login_profile_refresh_logout(api: Api, prefix: str) -> None:
    email = unique_email()
    registered = api.client.post(
        f"{prefix}/register", json={"email": email, "password": PASSWORD, "display_name": "Ada"}
    )
    assert registered.status_code == 201
    body = registered.json()
    assert body["success"] is True
    assert body["data"]["user"]["email"] == email
    assert body["data"]["token_type"] == "Bearer"
    assert body["data"]["expires_in"] == 900
    assert "password" not in registered.text
    assert "hash" not in registered.text

    login = api.client.post(f"{prefix}/login", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200
    tokens = login.json()["data"]

    profile = api.client.get(f"{prefix}/profile", headers=bearer(tokens["access_token"]))
    assert profile.status_code == 200
    assert profile.json()["data"]["display_name"] == "Ada"
    assert profile.json()["data"]["tier"] == "free"
    assert profile.json()["data"]["role"] == "user"

    refreshed = api.client.post(f"{prefix}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()["data"]
    assert new["refresh_token"] != tokens["refresh_token"]

    out = api.client.post(f"{prefix}/logout", headers=bearer(new["access_token"]))
    assert out.status_code == 200
    assert api.client.get(f"{prefix}/profile", headers=bearer(new["access_token"])).status_code == 401
    assert api.client.post(f"{prefix}/refresh", json={"refresh_token": new["refresh_token"]}).status_code == 401
    # the session's earlier access token died with it; the registration's session is separate and alive
    assert api.client.get(f"{prefix}/profile", headers=bearer(tokens["access_token"])).status_code == 401
    first = body["data"]["access_token"]
    assert api.client.get(f"{prefix}/profile", headers=bearer(first)).status_code == 200


def test_profile_patch_changes_only_sent_fields_and_null_clears_the_name(api: Api) -> None:
    tokens = api.register(display_name="Ada")
    headers = bearer(tokens["access_token"])

    changed = api.client.patch("/api/v1/auth/profile", json={"preferred_language": "EN"}, headers=headers)
    assert changed.status_code == 200
    assert changed.json()["data"]["preferred_language"] == "en"
    assert changed.json()["data"]["display_name"] == "Ada"

    cleared = api.client.patch("/api/v1/auth/profile", json={"display_name": None}, headers=headers)
    assert cleared.json()["data"]["display_name"] is None
    again = api.client.get("/api/v1/auth/profile", headers=headers).json()["data"]
    assert (again["display_name"], again["preferred_language"]) == (None, "en")


def test_password_change_keeps_this_client_and_logs_out_the_rest(api: Api) -> None:
    email = unique_email()
    first = api.register(email)
    other = api.login(email)

    response = api.client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(first["access_token"]),
    )
    assert response.status_code == 200
    fresh = response.json()["data"]

    assert api.client.get("/api/v1/auth/profile", headers=bearer(other["access_token"])).status_code == 401
    assert api.client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401
    assert api.client.get("/api/v1/auth/profile", headers=bearer(fresh["access_token"])).status_code == 200
    assert api.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    api.login(email, "a brand new passphrase")


def test_password_change_with_a_wrong_current_password_changes_nothing(api: Api) -> None:
    email = unique_email()
    tokens = api.register(email)
    response = api.client.post(
        "/api/v1/auth/password",
        json={"current_password": "not the password", "new_password": "a brand new passphrase"},
        headers=bearer(tokens["access_token"]),
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    api.login(email)


def _reset_token(mailbox: Mailbox, email: str) -> str:
    (message,) = [m for m in mailbox.sent if m.to == email]
    match = re.search(r"token=(\S+)", message.body)
    assert match
    return match[1]


def test_forgot_and_reset_password_through_the_outbox(api: Api, mailbox: Mailbox) -> None:
    email = unique_email()
    old = api.register(email)

    asked = api.client.post("/api/v1/auth/forgot-password", json={"email": email})
    assert asked.status_code == 202
    api.deliver_mail()
    token = _reset_token(mailbox, email)

    reset = api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "brand new words"})
    assert reset.status_code == 200
    assert api.client.get("/api/v1/auth/profile", headers=bearer(old["access_token"])).status_code == 401
    assert api.client.post("/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401
    api.login(email, "brand new words")

    again = api.client.post("/api/v1/auth/reset-password", json={"token": token, "new_password": "other new words"})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_reset_token"


def test_forgot_password_for_an_unknown_or_malformed_address_sends_nothing(api: Api, mailbox: Mailbox) -> None:
    for email in (unique_email(), "not an address", "a\u0000@example.com"):
        assert api.client.post("/api/v1/auth/forgot-password", json={"email": email}).status_code == 202
    api.deliver_mail()
    assert mailbox.sent == []


def test_each_reset_email_is_delivered_once(api: Api, mailbox: Mailbox) -> None:
    email = api.register()["user"]["email"]
    api.client.post("/api/v1/auth/forgot-password", json={"email": email})
    api.deliver_mail()
    api.deliver_mail()
    assert [m.to for m in mailbox.sent] == [email]


def test_login_is_throttled_with_retry_after(api: Api) -> None:
    email = unique_email()
    api.register(email)
    for _ in range(5):  # SCRIBE_LOGIN_FAILURES_PER_ACCOUNT_IP
        wrong = api.client.post("/api/v1/auth/login", json={"email": email, "password": "wrong password!"})
        assert wrong.status_code == 401
    throttled = api.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "too_many_requests"
    assert 0 < int(throttled.headers["Retry-After"]) <= 900


def test_usage_starts_at_zero(api: Api) -> None:
    tokens = api.register()
    usage = api.client.get("/api/v1/me/usage", headers=bearer(tokens["access_token"]))
    assert usage.status_code == 200
    data = usage.json()["data"]
    quota = data.pop("quota")
    assert data == {
        "usage_count": 0,
        "events": 0,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
        "since": None,
        "by_payer": {},
    }
    assert quota["tier"] == "free"
    assert quota["used_today"] == 0
    assert quota["remaining"] == quota["jobs_per_day"] > 0
