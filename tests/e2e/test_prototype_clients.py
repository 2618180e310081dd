"""The prototype's clients, replayed: the requests its own endpoint tests and its frontend send to the unversioned
routes, and what they expect back (KamWit7/yt-scribe-api `tests/endpoints`, yt-to-social-post's error display).
Processing runs on the offline `local` provider; YouTube is a fake on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import msgspec
import pytest

from infrastructure.bootstrap.settings import Settings
from tests.e2e.conftest import Api, make_client
from tests.fakes.youtube_server import FakeVideo, FakeYouTube

SEVEN_WORDS = "This is a test transcript for AI."  # the prototype's tests send 7 to 10 words
VIDEO = "dQw4w9WgXcQ"
FRONTEND = "http://localhost:3000"


@pytest.fixture
def api(settings: Settings, youtube: FakeYouTube) -> Iterator[Api]:
    youtube.videos[VIDEO] = FakeVideo("Leaves", "A lecture.", captions={"en": [(0.0, 5.0, "Leaves make food.")]})
    with make_client(msgspec.structs.replace(settings, youtube_base_url=youtube.url)) as client:
        yield Api(client)


@pytest.mark.parametrize(
    ("purpose", "extra", "own_output"),
    [
        ("learning", {}, "mindMap"),
        ("social_media", {}, "socialPost"),
        ("custom", {"customPrompt": "Analyze this transcript and provide insights"}, "customOutput"),
    ],
)
def test_a_seven_word_transcript_gets_short_outputs(
    api: Api, purpose: str, extra: dict[str, str], own_output: str
) -> None:
    body = {"transcript": SEVEN_WORDS, "purpose": purpose, "language": "en", **extra}
    response = api.client.post("/api/ai/process-transcript", json=body)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"summary", "topics", own_output}
    assert 1 <= len(data["summary"].split()) <= len(SEVEN_WORDS.split())
    assert data["topics"].startswith("Key topics:\n- ")
    if own_output == "mindMap":
        assert data["mindMap"]["nodes"][0]["id"] == "root-1"
        assert data["mindMap"]["edges"]


@pytest.mark.parametrize("transcript", ["Hello", "Transkrypcja z polskimi znakami: ąćęłńóśźż i emoji 🚀"])
def test_any_transcript_with_a_word_is_processed(api: Api, transcript: str) -> None:
    response = api.client.post("/api/ai/process-transcript", json={"transcript": transcript, "purpose": "learning"})
    assert response.status_code == 200, response.text
    assert set(response.json()["data"]) == {"summary", "topics", "mindMap"}


def test_v1_keeps_its_documented_minimum(api: Api) -> None:
    token = api.register()["access_token"]
    response = api.client.post(
        "/api/v1/process", json={"transcript": SEVEN_WORDS}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Some fields are invalid"  # no prototype lead on /api/v1
    message = "is too short to process: at least 20 words are needed"
    assert body["details"] == [{"field": "transcript", "message": message}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "learning"}, "transcript"),
        ({"transcript": "", "purpose": "learning"}, "transcript"),
        ({"transcript": "   ", "purpose": "learning"}, "transcript"),
        ({"transcript": "🚀 !!! …", "purpose": "learning"}, "transcript"),
        ({"transcript": SEVEN_WORDS, "purpose": "invalid_purpose"}, "purpose"),
        ({"transcript": SEVEN_WORDS, "purpose": "custom", "customPrompt": "A" * 10_001}, "customPrompt"),
    ],
)
def test_an_invalid_body_leads_with_blad_walidacji(api: Api, body: dict[str, str], field: str) -> None:
    response = api.client.post("/api/ai/process-transcript", json=body)

    assert response.status_code == 400
    payload = response.json()
    assert payload["success"] is False
    assert payload["error"].startswith("Błąd walidacji: ")
    assert payload["code"] in {"validation_error", "empty_transcript"}
    assert field in {d["field"] for d in payload["details"]}


def test_a_custom_prompt_of_ten_thousand_characters_is_accepted(api: Api) -> None:
    body = {"transcript": SEVEN_WORDS, "purpose": "custom", "customPrompt": "A" * 10_000}
    response = api.client.post("/api/ai/process-transcript", json=body)
    assert response.status_code == 200, response.text
    assert "customOutput" in response.json()["data"]


def test_health_keeps_the_prototype_fields_beside_ours(api: Api) -> None:
    before = time.time()
    data = api.client.get("/api/health").json()["data"]

    assert data["success"] is True
    assert data["message"] == "get health check"
    assert before - 1 <= datetime.fromisoformat(data["timestamp"]).timestamp() <= time.time() + 1
    assert data["status"] == "ok"
    assert {"version", "time"} <= set(data)


def test_a_json_health_check_without_a_body_is_answered(api: Api) -> None:
    response = api.client.post("/api/health", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"status": "ok", "message": None}}


@pytest.mark.parametrize("url", ["invalid-url", "https://google.com", "https://www.youtube.com/watch?v="])
def test_a_link_that_is_not_a_video_leads_with_invalid_youtube_url(api: Api, url: str) -> None:
    response = api.client.get("/api/transcript", params={"url": url})

    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("Invalid YouTube URL: ")
    assert body["code"] == "invalid_url"


def test_youtube_out_of_reach_leads_with_failed_to_fetch_youtube_page(api: Api, youtube: FakeYouTube) -> None:
    youtube.broken = True
    response = api.client.get("/api/transcript", params={"url": f"https://youtu.be/{VIDEO}"})

    assert response.status_code == 502
    body = response.json()
    assert body["error"].startswith("Failed to fetch YouTube page: ")
    assert body["code"] == "youtube_unreachable"


def test_v1_errors_keep_their_own_text(api: Api) -> None:
    token = api.register()["access_token"]
    response = api.client.get(
        "/api/v1/transcripts", params={"url": "invalid-url"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("The URL is not a YouTube video link")


def test_limited_routes_send_the_prototype_rate_limit_headers(settings: Settings, youtube: FakeYouTube) -> None:
    tight = msgspec.structs.replace(
        settings, youtube_base_url=youtube.url, anonymous_requests_per_window=2, anonymous_window_seconds=900
    )
    with make_client(tight) as client:
        started = int(time.time())
        first = client.post("/api/ai/process-transcript", json={"transcript": SEVEN_WORDS, "purpose": "custom"})
        second = client.get("/api/transcript", params={"url": "invalid-url"})  # refused, but counted
        third = client.post("/api/ai/process-transcript", json={"transcript": SEVEN_WORDS, "purpose": "custom"})

    assert [first.status_code, second.status_code, third.status_code] == [200, 400, 429]
    for prefix in ("X-RateLimit-", "RateLimit-"):
        assert first.headers[f"{prefix}Limit"] == "2"
        assert first.headers[f"{prefix}Remaining"] == "1"
        assert third.headers[f"{prefix}Limit"] == "2"
        assert third.headers[f"{prefix}Remaining"] == "0"
    assert 0 < int(first.headers["RateLimit-Reset"]) <= 900
    assert started < int(first.headers["X-RateLimit-Reset"]) <= started + 901  # a Unix time, as the prototype sent
    # GCRA: 2 requests per 900 s give one back every 450 s; the whole allowance is back after 900 s.
    assert third.json()["code"] == "rate_limited"
    assert 449 <= int(third.headers["Retry-After"]) <= 450 < int(third.headers["RateLimit-Reset"]) <= 900
    assert second.headers["X-RateLimit-Remaining"] == "0"  # refused after it was counted: the count is told


def test_a_browser_on_the_frontend_can_read_the_rate_limit_headers(api: Api) -> None:
    response = api.client.post(
        "/api/ai/process-transcript",
        json={"transcript": SEVEN_WORDS, "purpose": "custom"},
        headers={"Origin": FRONTEND},
    )
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-remaining"} <= exposed


@pytest.mark.parametrize(("allow", "origin", "expected"), [(False, FRONTEND, None), (True, FRONTEND, "true")])
def test_cors_credentials_are_a_setting(settings: Settings, allow: bool, origin: str, expected: str | None) -> None:
    with make_client(msgspec.structs.replace(settings, cors_allow_credentials=allow)) as client:
        simple = client.get("/api/health", headers={"Origin": origin})
        preflight = client.options(
            "/api/ai/process-transcript",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        stranger = client.get("/api/health", headers={"Origin": "http://localhost:6000"})

    assert simple.headers.get("access-control-allow-credentials") == expected
    assert preflight.headers.get("access-control-allow-credentials") == expected
    assert "access-control-allow-origin" not in stranger.headers  # so a browser shares nothing with it
