"""Bad input on every field of register, login and profile: a 400 naming each bad field, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Api, bearer, unique_email


def _fields(response: Any) -> set[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "validation_error"
    return {d["field"] for d in body["details"]}


REGISTER_CASES = [
    ({"password": PASSWORD}, {"email"}),
    ({"email": "a@example.com"}, {"password"}),
    ({}, {"email", "password"}),
    ({"email": 42, "password": PASSWORD}, {"email"}),
    ({"email": "a@example.com", "password": ["x"]}, {"password"}),
    ({"email": "x" * 400 + "@example.com", "password": PASSWORD}, {"email"}),
    ({"email": "not-an-email", "password": PASSWORD}, {"email"}),
    ({"email": "a@example.com", "password": "short"}, {"password"}),
    ({"email": "a@example.com", "password": "password1234"}, {"password"}),
    ({"email": "a@example.com", "password": "x" * 129}, {"password"}),
    ({"email": "a@example.com", "password": "y" * 2000}, {"password"}),
    ({"email": "bad", "password": "short"}, {"email", "password"}),
    ({"email": "a@example.com", "password": PASSWORD, "display_name": "x" * 101}, {"display_name"}),
    ({"email": "a@example.com", "password": PASSWORD, "display_name": 5}, {"display_name"}),
    ({"email": "a@example.com", "password": PASSWORD, "preferred_language": "polish"}, {"preferred_language"}),
    ({"email": "a@example.com", "password": PASSWORD, "role": "admin"}, {"role"}),
    (
        {"email": 1, "password": 2, "display_name": [], "unknown": True},
        {"email", "password", "display_name", "unknown"},
    ),
]


@pytest.mark.parametrize(("body", "bad"), REGISTER_CASES)
def test_register_names_every_bad_field(api: Api, body: dict[str, Any], bad: set[str]) -> None:
    email = unique_email()
    placeholder = body.get("email") == "a@example.com"
    if placeholder:
        body = {**body, "email": email}
    response = api.client.post("/api/v1/auth/register", json=body)
    assert _fields(response) == bad
    if placeholder:
        api.register(email)  # 201: the refused attempt stored nothing


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({}, {"email", "password"}),
        ({"email": "a@example.com"}, {"password"}),
        ({"email": None, "password": PASSWORD}, {"email"}),
        ({"email": "a@example.com", "password": 12}, {"password"}),
        ({"email": "x" * 400, "password": PASSWORD}, {"email"}),
        ({"email": "a@example.com", "password": "p" * 1025}, {"password"}),
    ],
)
def test_login_names_every_bad_field(api: Api, body: dict[str, Any], bad: set[str]) -> None:
    assert _fields(api.client.post("/api/v1/auth/login", json=body)) == bad


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"display_name": 7}, {"display_name"}),
        ({"display_name": "   "}, {"display_name"}),
        ({"display_name": "x" * 101}, {"display_name"}),
        ({"preferred_language": None}, {"preferred_language"}),
        ({"preferred_language": "english"}, {"preferred_language"}),
        ({"preferred_language": "e1"}, {"preferred_language"}),
        ({"display_name": "", "preferred_language": "xyz"}, {"display_name", "preferred_language"}),
        ({"email": "new@example.com"}, {"email"}),
    ],
)
def test_profile_patch_names_every_bad_field_and_changes_nothing(api: Api, body: dict[str, Any], bad: set[str]) -> None:
    tokens = api.register(display_name="Ada")
    headers = bearer(tokens["access_token"])
    assert _fields(api.client.patch("/api/v1/auth/profile", json=body, headers=headers)) == bad
    profile = api.client.get("/api/v1/auth/profile", headers=headers).json()["data"]
    assert (profile["display_name"], profile["preferred_language"]) == ("Ada", "pl")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/refresh", {}),
        ("/api/v1/auth/refresh", {"refresh_token": ""}),
        ("/api/v1/auth/forgot-password", {"email": 3}),
        ("/api/v1/auth/reset-password", {"token": "t"}),
        ("/api/v1/auth/reset-password", {"token": "t", "new_password": "short"}),
    ],
)
def test_other_auth_bodies_are_validated(api: Api, path: str, body: dict[str, Any]) -> None:
    response = api.client.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["code"] in {"validation_error", "invalid_reset_token"}


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_a_400(api: Api, body: bytes) -> None:
    response = api.client.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_an_empty_body_is_a_400_not_a_500(api: Api) -> None:
    response = api.client.post("/api/v1/auth/login", content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
