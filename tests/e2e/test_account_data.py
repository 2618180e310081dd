"""`DELETE /api/v1/me`: an account closed with everything of its own, and nobody else's."""

from __future__ import annotations

from tests.e2e.conftest import PASSWORD, Api, bearer
from tests.e2e.test_history_api import _entry, _ids, _seed, _user


def test_deleting_my_account_removes_me_and_my_data_and_ends_my_tokens(api: Api) -> None:
    tokens = api.register()
    me, headers = tokens["user"]["id"], bearer(tokens["access_token"])
    api_token = api.client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=headers).json()["data"]["token"]
    other, other_headers = _user(api)
    _seed(api, _entry(me), _entry(other))

    unconfirmed = api.client.delete("/api/v1/me", headers=headers)
    assert unconfirmed.status_code == 400
    assert [d["field"] for d in unconfirmed.json()["details"]] == ["confirm"]
    assert api.client.delete("/api/v1/me?confirm=true", headers=bearer(api_token)).status_code == 403

    assert api.client.delete("/api/v1/me?confirm=true", headers=headers).status_code == 204
    assert api.client.get("/api/v1/auth/profile", headers=headers).status_code == 401
    assert api.client.get("/api/v1/auth/profile", headers=bearer(api_token)).status_code == 401
    refresh = api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    login = api.client.post("/api/v1/auth/login", json={"email": tokens["user"]["email"], "password": PASSWORD})
    assert login.status_code == 401
    assert len(_ids(api, other_headers)) == 1

    # The address is free again: a new account starts empty.
    again = api.register(tokens["user"]["email"])
    assert _ids(api, bearer(again["access_token"])) == []


def test_my_export_has_my_profile_tokens_usage_and_whole_history_and_nothing_of_others(api: Api) -> None:
    tokens = api.register()
    me, headers = tokens["user"]["id"], bearer(tokens["access_token"])
    secret = api.client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=headers).json()["data"]["token"]
    other, _ = _user(api)
    mine = [_entry(me, summary=f"Notatka {n} o źródłach") for n in range(105)]  # more than one page
    _seed(api, *mine, _entry(other, summary="cudze"))

    response = api.client.get("/api/v1/me/export", headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["user"]["email"] == tokens["user"]["email"]
    assert [t["name"] for t in data["api_tokens"]] == ["ci"]
    assert secret not in response.text
    assert "$argon2" not in response.text  # no password hash
    assert "password" not in response.text
    assert data["provider_keys"] == []
    assert data["usage"]["usage_count"] == 0  # seeded rows are history, not processing jobs
    assert sorted(e["id"] for e in data["history"]) == sorted(str(e.id) for e in mine)
    assert "cudze" not in response.text
    assert data["history"][0]["summary"].endswith("o źródłach")
