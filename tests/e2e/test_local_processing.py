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
    assert (data["provider"], data["model"], data["cost_usd"]) == ("local", "extractive-v2", 0.0)
    assert data["history_id"]
    assert data["transcript"]["source"] == "srt"
    assert any(t["timestamp"] is not None for t in data["key_topics"])


@pytest.mark.parametrize(
    ("transcript", "reason"),
    [
        ("word " * 25, "repeats fewer than 5 different words"),
        (" ".join(str(n) for n in range(1, 31)), "no words, only numbers or symbols"),
        ("a" * 490_000, "not separated by spaces"),
        ("[Music] ♪ ♪ ♪ " * 20, "no words"),
    ],
)
def test_degenerate_transcripts_are_the_clients_problem_not_a_provider_outage(
    api: Api, transcript: str, reason: str
) -> None:
    headers = bearer(api.register()["access_token"])
    for path, body in (
        ("/api/v1/process", {"transcript": transcript, "outputs": ["summary", "topics"]}),
        ("/api/ai/process-transcript", {"transcript": transcript, "purpose": "learning"}),
    ):
        response = api.client.post(path, json=body, headers=headers)
        assert response.status_code == 422, response.text
        envelope = response.json()
        assert (envelope["success"], envelope["code"]) == (False, "transcript_unusable")
        assert reason in envelope["error"]


def test_a_song_with_caption_markers_is_processed_without_them(api: Api) -> None:
    song = (DATA.parent / "evaluation" / "en_song_lighthouse.vtt").read_text(encoding="utf-8")
    response = api.client.post(
        "/api/ai/process-transcript", json={"transcript": song, "purpose": "social_media", "language": "en"}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    for text in data.values():
        assert "♪" not in text
        assert "[Music]" not in text


@pytest.mark.parametrize(
    ("sample", "asked", "notices"),
    [
        ("pl_talk_pszczoly_w_miescie.srt", "en", True),  # Polish speech, English asked: quoted in Polish, and said so
        ("pl_talk_pszczoly_w_miescie.srt", "pl", False),
        ("en_lecture_sleep_memory.vtt", "en", False),
        ("en_lecture_sleep_memory.vtt", "pl", True),
    ],
)
def test_the_offline_provider_says_when_it_did_not_translate(api: Api, sample: str, asked: str, notices: bool) -> None:
    headers = bearer(api.register()["access_token"])
    transcript = (DATA / sample).read_text(encoding="utf-8")
    spoken = sample[:2]
    body = {"transcript": transcript, "outputs": ["summary", "topics"], "language": asked}
    response = api.client.post("/api/v1/process", json=body, headers=headers)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert response.headers["content-language"] == spoken
    assert data["language"] == spoken
    expected = [{"code": "not_translated", "output": o} for o in ("summary", "topics")] if notices else []
    assert [{"code": n["code"], "output": n["output"]} for n in data["notices"]] == expected
    prototype = api.client.post(
        "/api/ai/process-transcript", json={"transcript": transcript, "purpose": "learning", "language": asked}
    )
    assert prototype.headers["content-language"] == spoken
