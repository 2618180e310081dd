from __future__ import annotations

from tests.e2e.conftest import Api, bearer


def test_admin_routes_are_403_for_everyone_else(api: Api) -> None:
    user = api.register()
    assert api.client.get("/api/v1/admin/users", headers=bearer(user["access_token"])).status_code == 403
    response = api.client.patch(
        f"/api/v1/admin/users/{user['user']['id']}", json={"tier": "pro"}, headers=bearer(user["access_token"])
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert api.client.get("/api/v1/admin/users").status_code == 401


def test_an_admin_lists_users_and_changes_a_tier(api: Api) -> None:
    user = api.register()
    admin = api.make_admin()

    listed = api.client.get("/api/v1/admin/users?limit=100", headers=bearer(admin))
    assert listed.status_code == 200
    assert user["user"]["id"] in {u["id"] for u in listed.json()["data"]["items"]}

    changed = api.client.patch(f"/api/v1/admin/users/{user['user']['id']}", json={"tier": "pro"}, headers=bearer(admin))
    assert changed.json()["data"]["tier"] == "pro"
    me = api.client.get("/api/v1/auth/profile", headers=bearer(user["access_token"])).json()["data"]
    assert me["tier"] == "pro"  # read from storage: the user's old token shows the new tier


def test_admin_input_is_validated(api: Api) -> None:
    admin = api.make_admin()
    bad = api.client.patch(
        "/api/v1/admin/users/00000000-0000-0000-0000-000000000000", json={"tier": "platinum"}, headers=bearer(admin)
    )
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "tier"
    missing = api.client.patch(
        "/api/v1/admin/users/00000000-0000-0000-0000-000000000000", json={"tier": "pro"}, headers=bearer(admin)
    )
    assert missing.status_code == 404
    assert api.client.get("/api/v1/admin/users?limit=500", headers=bearer(admin)).status_code == 400
    assert api.client.get("/api/v1/admin/users?cursor=garbage", headers=bearer(admin)).status_code == 400
