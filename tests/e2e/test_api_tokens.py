"""Personal API tokens over HTTP: shown once, hashed at rest, scoped, revocable, private to their owner."""

from __future__ import annotations

from tests.e2e.conftest import Api, bearer


def _create(api: Api, access: str, **body: object) -> dict:  # type: ignore[type-arg]
    response = api.client.post("/api/v1/me/tokens", json={"name": "ci", **body}, headers=bearer(access))
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_a_token_works_as_a_bearer_credential_until_revoked(api: Api) -> None:
    session = api.register()["access_token"]
    created = _create(api, session)
    secret = created["token"]
    assert secret.startswith("scribe_")
    assert created["api_token"]["hint"] == secret[:11]

    assert api.client.get("/api/v1/auth/profile", headers=bearer(secret)).status_code == 200
    listed = api.client.get("/api/v1/me/tokens", headers=bearer(session)).json()["data"]
    assert [t["id"] for t in listed["items"]] == [created["api_token"]["id"]]
    assert secret not in str(listed)  # never shown again
    assert listed["items"][0]["last_used_at"] is not None

    revoke = api.client.delete(f"/api/v1/me/tokens/{created['api_token']['id']}", headers=bearer(session))
    assert revoke.status_code == 204
    assert api.client.get("/api/v1/auth/profile", headers=bearer(secret)).status_code == 401


def test_a_read_only_token_cannot_write(api: Api) -> None:
    session = api.register()["access_token"]
    secret = _create(api, session, scopes=["read"])["token"]
    assert api.client.get("/api/v1/me/usage", headers=bearer(secret)).status_code == 200
    response = api.client.patch("/api/v1/auth/profile", json={"display_name": "x"}, headers=bearer(secret))
    assert response.status_code == 403


def test_an_api_token_cannot_mint_tokens_log_out_or_change_the_password(api: Api) -> None:
    session = api.register()["access_token"]
    secret = _create(api, session)["token"]
    assert api.client.post("/api/v1/me/tokens", json={"name": "more"}, headers=bearer(secret)).status_code == 403
    assert api.client.post("/api/v1/auth/logout", headers=bearer(secret)).status_code == 403
    response = api.client.post(
        "/api/v1/auth/password",
        json={"current_password": "violet kettle umbrella 42", "new_password": "whatever new words"},
        headers=bearer(secret),
    )
    assert response.status_code == 403


def test_another_users_token_is_404_to_revoke(api: Api) -> None:
    ada = api.register()["access_token"]
    bob = api.register()["access_token"]
    created = _create(api, ada)
    response = api.client.delete(f"/api/v1/me/tokens/{created['api_token']['id']}", headers=bearer(bob))
    assert response.status_code == 404
    assert api.client.get("/api/v1/auth/profile", headers=bearer(created["token"])).status_code == 200


def test_a_made_up_scribe_token_is_401(api: Api) -> None:
    assert api.client.get("/api/v1/auth/profile", headers=bearer("scribe_madeup")).status_code == 401


def test_token_listing_pages_with_a_cursor(api: Api) -> None:
    session = api.register()["access_token"]
    ids = {_create(api, session, name=f"t{n}")["api_token"]["id"] for n in range(5)}
    seen: list[str] = []
    url = "/api/v1/me/tokens?limit=2"
    while url:
        page = api.client.get(url, headers=bearer(session)).json()["data"]
        seen += [t["id"] for t in page["items"]]
        url = f"/api/v1/me/tokens?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert len(seen) == 5
    assert set(seen) == ids


def test_token_requests_are_validated(api: Api) -> None:
    session = api.register()["access_token"]
    bad = api.client.post(
        "/api/v1/me/tokens", json={"name": "", "scopes": ["admin"], "expires_in_days": 0}, headers=bearer(session)
    )
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["details"]} == {"scopes[0]"}  # shape errors come first, with a path
    bad = api.client.post(
        "/api/v1/me/tokens", json={"name": " ", "scopes": [], "expires_in_days": 0}, headers=bearer(session)
    )
    assert {d["field"] for d in bad.json()["details"]} == {"name", "scopes", "expires_in_days"}
    assert api.client.get("/api/v1/me/tokens?limit=0", headers=bearer(session)).status_code == 400
    assert api.client.get("/api/v1/me/tokens?cursor=%%%", headers=bearer(session)).status_code == 400
    assert api.client.delete("/api/v1/me/tokens/not-a-uuid", headers=bearer(session)).status_code == 404


def test_an_admins_read_only_token_cannot_change_accounts(api: Api) -> None:

    admin_session = api.make_admin()
    read_only = _create(api, admin_session, scopes=["read"])["token"]
    victim = api.register()["user"]["id"]
    assert api.client.get("/api/v1/admin/users", headers=bearer(read_only)).status_code == 200
    changed = api.client.patch(f"/api/v1/admin/users/{victim}", json={"role": "admin"}, headers=bearer(read_only))
    assert changed.status_code == 403


def test_a_write_only_token_cannot_read(api: Api) -> None:
    session = api.register()["access_token"]
    write_only = _create(api, session, scopes=["write"])["token"]
    assert api.client.get("/api/v1/auth/profile", headers=bearer(write_only)).status_code == 403
    assert api.client.get("/api/v1/me/usage", headers=bearer(write_only)).status_code == 403


def test_a_write_only_token_cannot_read_the_profile_through_a_change(api: Api) -> None:
    session = api.register()["access_token"]
    write_only = _create(api, session, scopes=["write"])["token"]
    for body in ({}, {"display_name": "Ada"}):
        response = api.client.patch("/api/v1/auth/profile", json=body, headers=bearer(write_only))
        assert response.status_code == 403, response.text
        assert "email" not in response.text
    read_write = _create(api, session, scopes=["read", "write"])["token"]
    assert api.client.patch("/api/v1/auth/profile", json={}, headers=bearer(read_write)).status_code == 200


def test_an_admins_write_only_token_cannot_read_accounts_through_a_change(api: Api) -> None:

    write_only = _create(api, api.make_admin(), scopes=["write"])["token"]
    victim = api.register()["user"]["id"]
    changed = api.client.patch(f"/api/v1/admin/users/{victim}", json={"tier": "pro"}, headers=bearer(write_only))
    assert changed.status_code == 403
    assert "email" not in changed.text


def test_disabling_an_account_revokes_its_api_tokens_for_good(api: Api) -> None:

    admin = api.make_admin()
    owner = api.register()
    secret = _create(api, owner["access_token"])["token"]
    assert api.client.get("/api/v1/auth/profile", headers=bearer(secret)).status_code == 200

    for disabled in (True, False):
        response = api.client.patch(
            f"/api/v1/admin/users/{owner['user']['id']}", json={"disabled": disabled}, headers=bearer(admin)
        )
        assert response.status_code == 200
        assert api.client.get("/api/v1/auth/profile", headers=bearer(secret)).status_code == 401
    session = api.login(owner["user"]["email"])["access_token"]
    listed = api.client.get("/api/v1/me/tokens", headers=bearer(session)).json()["data"]["items"]
    assert [t["revoked_at"] is not None for t in listed] == [True]
