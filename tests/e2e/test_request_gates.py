"""What a request must get past before its body is read (credentials), and how strictly the body is read."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api, bearer

NOBODY = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/process", {"zzz": 1}),
        ("PATCH", f"/api/v1/admin/users/{NOBODY}", {"role": "god"}),
        ("PATCH", "/api/v1/auth/profile", {"display_name": 5}),
        ("POST", "/api/v1/me/tokens", {"scopes": "all"}),
        ("PUT", "/api/v1/me/api-keys/anthropic", {"api_key": 1}),
        ("POST", "/api/v1/auth/password", {}),
    ],
)
def test_without_credentials_a_protected_route_says_401_not_how_its_body_is_shaped(
    api: Api, method: str, path: str, body: object
) -> None:
    response = api.client.request(method, path, json=body)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert "details" not in response.json()
    bad_token = api.client.request(method, path, json=body, headers=bearer("not-a-token"))
    assert bad_token.status_code == 401


def test_a_non_admin_learns_nothing_about_admin_bodies(api: Api) -> None:
    user = api.register()
    response = api.client.patch(
        f"/api/v1/admin/users/{NOBODY}", json={"role": "god"}, headers=bearer(user["access_token"])
    )
    assert response.status_code == 403
    assert "details" not in response.json()


def test_a_signed_in_caller_still_gets_field_details(api: Api) -> None:
    admin = api.make_admin()
    response = api.client.patch(f"/api/v1/admin/users/{NOBODY}", json={"role": "god"}, headers=bearer(admin))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "role"


@pytest.mark.parametrize("disabled", ["true", "1", 1, 0])
def test_a_json_string_or_number_is_not_a_boolean(api: Api, disabled: object) -> None:
    admin = api.make_admin()
    victim = api.register()
    response = api.client.patch(
        f"/api/v1/admin/users/{victim['user']['id']}", json={"disabled": disabled}, headers=bearer(admin)
    )
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["field"] == "disabled"
    profile = api.client.get("/api/v1/auth/profile", headers=bearer(victim["access_token"]))
    assert profile.status_code == 200  # not disabled


def test_a_json_string_is_not_a_number(api: Api) -> None:
    session = api.register()["access_token"]
    response = api.client.post(
        "/api/v1/me/tokens", json={"name": "ci", "expires_in_days": "5"}, headers=bearer(session)
    )
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["field"] == "expires_in_days"
    listed = api.client.get("/api/v1/me/tokens", headers=bearer(session)).json()["data"]["items"]
    assert listed == []
    assert (
        api.client.post("/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 5}, headers=bearer(session))
    ).status_code == 201


def test_an_optional_body_is_typed_strictly_too(api: Api) -> None:
    session = api.register()["access_token"]
    response = api.client.post("/api/v1/auth/logout", json={"refresh_token": 5}, headers=bearer(session))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "refresh_token"
    assert api.client.get("/api/v1/auth/profile", headers=bearer(session)).status_code == 200  # still logged in


def test_query_values_are_still_read_from_text(api: Api) -> None:
    session = api.register()["access_token"]
    assert api.client.get("/api/v1/me/tokens?limit=5", headers=bearer(session)).status_code == 200
