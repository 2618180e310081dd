"""The embedded default: no provider key anywhere, so the offline `local` provider answers, under the same
contract as any model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Api, bearer

DATA = Path(__file__).parents[1] / "data" / "transcripts"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir()))
def test_the_prototype_route_answers_offline_for_every_sample(api: Api, name: str) -> None:
    transcript = (DATA / name).read_text(encoding="utf-8")
    language = name[:2]
    for purpose, key in (("learning", "mindMap"), ("social_media", "socialPost")):
        response = api.client.post(
            "/api/ai/process-transcript", json={"transcript": transcript, "purpose": purpose, "language": language}
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert set(data) == {"summary", "topics", key}
        assert data["topics"].startswith("Key topics:\n- ")


def test_v1_says_honestly_that_the_local_provider_answered(api: Api) -> None:
    headers = bearer(api.register()["access_token"])
    transcript = (DATA / "pl_talk_pszczoly_w_miescie.srt").read_text(encoding="utf-8")
    response = api.client.post(
        "/api/v1/process",
        json={"transcript": transcript, "purpose": "learning", "language": "pl"},
        headers=headers,
    )
    data = response.json()["data"]
    assert (data["provider"], data["model"], data["cost_usd"]) == ("local", "extractive-v1", 0.0)
    assert data["history_id"]
    assert data["transcript"]["source"] == "srt"
    assert any(t["timestamp"] is not None for t in data["key_topics"])
