"""Tiers over HTTP: request rates with `RateLimit-*` headers, 429 `rate_limited` / `quota_exceeded`, the daily quota
counting only jobs on the server's keys, the quota in /me/usage, and the administrators' view of refusals."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from application.accounts.admin import AccountChanges, ChangeAccount
from domain.users import Tier
from infrastructure.bootstrap.settings import Settings
from tests.data import TRANSCRIPT
from tests.e2e.conftest import SERVER_KEYS, Api, ai_settings, bearer, make_client
from tests.fakes.llm_server import FakeLLMServer

OWN_KEY = "sk-ada-own-key-123456"


def _process(api: Api, headers: dict[str, str]) -> Any:
    return api.client.post("/api/v1/process", json={"transcript": TRANSCRIPT, "outputs": ["summary"]}, headers=headers)


def test_a_tiers_request_rate_is_told_in_headers_and_enforced_with_rate_limited(settings: Settings) -> None:
    tight = msgspec.structs.replace(settings, tier_free_requests_per_minute=2)
    with make_client(tight) as client:
        api = Api(client)
        headers = bearer(api.register()["access_token"])
        first, second, third = (_process(api, headers) for _ in range(3))
        other = bearer(api.register()["access_token"])
        someone_else = _process(api, other)

    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    for prefix in ("RateLimit-", "X-RateLimit-"):
        assert [r.headers[f"{prefix}Limit"] for r in (first, second, third)] == ["2", "2", "2"]
        assert [r.headers[f"{prefix}Remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 60
    body = third.json()
    assert (body["success"], body["code"]) == (False, "rate_limited")
    assert 25 <= int(third.headers["Retry-After"]) <= 30  # two a minute: one comes back every 30 s
    assert someone_else.status_code == 200  # per user, not per address
    assert someone_else.headers["RateLimit-Remaining"] == "1"


def test_the_free_quota_counts_only_jobs_on_the_servers_keys(settings: Settings, llm: FakeLLMServer) -> None:
    with make_client(ai_settings(settings, llm, tier_free_jobs_per_day=1)) as client:
        api = Api(client)
        ada = api.register()
        headers = bearer(ada["access_token"])
        assert _process(api, headers).status_code == 200  # on the server's anthropic key
        refused = _process(api, headers)
        quota = client.get("/api/v1/me/usage", headers=headers).json()["data"]["quota"]

        assert refused.status_code == 429
        assert refused.json()["code"] == "quota_exceeded"
        assert 0 < int(refused.headers["Retry-After"]) <= 86400
        assert refused.headers["RateLimit-Limit"] == "1"
        assert (quota["tier"], quota["jobs_per_day"], quota["used_today"], quota["remaining"]) == ("free", 1, 1, 0)
        assert quota["resets_at"].endswith("T00:00:00Z")

        stored = client.put("/api/v1/me/api-keys/openai", json={"api_key": OWN_KEY}, headers=headers)
        assert stored.status_code == 200, stored.text
        llm.clear()
        for _ in range(3):  # beyond the quota, on their own key
            served = _process(api, headers)
            assert served.status_code == 200, served.text
            assert served.json()["data"]["served_by"] == {"summary": "openai/gpt-4.1-mini"}
        assert {r.api_key for r in llm.requests} == {OWN_KEY}
        assert client.get("/api/v1/me/usage", headers=headers).json()["data"]["quota"]["used_today"] == 1

        bob = api.register()
        bob_headers = bearer(bob["access_token"])
        assert _process(api, bob_headers).status_code == 200
        assert _process(api, bob_headers).json()["code"] == "quota_exceeded"
        api.use_case(ChangeAccount, bob["user"]["email"], AccountChanges(tier=Tier.BYOK))  # `scribe users set-tier`
        moved = _process(api, bob_headers)
        assert moved.status_code == 200, moved.text  # byok: no quota on the server's keys
        assert SERVER_KEYS["anthropic"] in {r.api_key for r in llm.requests}
        byok = client.get("/api/v1/me/usage", headers=bob_headers).json()["data"]["quota"]
        assert (byok["tier"], byok["jobs_per_day"], byok["remaining"]) == ("byok", None, None)


def test_administrators_see_refusals_by_tier_and_the_users_refused_most(settings: Settings) -> None:
    tight = msgspec.structs.replace(settings, tier_free_requests_per_minute=1, anonymous_requests_per_window=1)
    with make_client(tight) as client:
        api = Api(client)
        ada = api.register()
        headers = bearer(ada["access_token"])
        codes = [_process(api, headers).status_code for _ in range(4)]
        prototype = {"transcript": TRANSCRIPT, "purpose": "learning"}
        anonymous = [client.post("/api/ai/process-transcript", json=prototype).status_code for _ in range(2)]
        admin = bearer(api.make_admin())
        report = client.get("/api/v1/admin/rate-limits", params={"hours": 1}, headers=admin)
        forbidden = client.get("/api/v1/admin/rate-limits", headers=headers)

    assert codes == [200, 429, 429, 429]
    assert anonymous == [200, 429]
    assert report.status_code == 200, report.text
    data = report.json()["data"]
    assert data["hours"] == 1
    # An earlier test of this run may have been refused on the same store: this one's refusals are at least there.
    assert data["by_tier"]["free"]["rate_limited"] >= 3
    assert data["by_tier"]["anonymous"]["rate_limited"] >= 1
    assert {"user_id": ada["user"]["id"], "email": ada["user"]["email"], "refusals": 3} in data["top_users"]
    assert forbidden.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [({"hours": 0}, "hours"), ({"hours": 49}, "hours"), ({"hours": "a day"}, "hours"), ({"top": 101}, "top")],
)
def test_the_refusals_report_refuses_a_window_or_list_out_of_range(
    api: Api, params: dict[str, object], field: str
) -> None:
    answer = api.client.get("/api/v1/admin/rate-limits", params=params, headers=bearer(api.make_admin()))

    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "validation_error"
    assert [d["field"] for d in body["details"]] == [field]
