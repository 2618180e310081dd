"""YouTube links in: the transcript routes and processing by URL, against a fake YouTube on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest

from infrastructure.bootstrap.settings import Settings
from tests.e2e.conftest import Api, bearer, make_client
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.youtube_server import FakeVideo, FakeYouTube

VIDEO = "dQw4w9WgXcQ"
CUES = [(float(i * 7), 7.0, f"Cue {i}: leaves capture sunlight and turn it into chemical energy.") for i in range(60)]


@pytest.fixture
def yt(youtube: FakeYouTube) -> FakeYouTube:
    youtube.videos[VIDEO] = FakeVideo(
        "How leaves make food", "A short lecture on photosynthesis.", captions={"en": CUES}
    )
    return youtube


@pytest.fixture
def api(settings: Settings, yt: FakeYouTube) -> Iterator[Api]:
    with make_client(msgspec.structs.replace(settings, youtube_base_url=yt.url)) as client:
        yield Api(client)


def test_the_prototype_route_gives_transcript_title_and_description(api: Api) -> None:
    response = api.client.get("/api/transcript", params={"url": f"https://youtu.be/{VIDEO}?si=x"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"transcript", "title", "description"}
    assert data["title"] == "How leaves make food"
    assert data["transcript"].startswith("Cue 0: leaves capture sunlight")


def test_v1_transcripts_add_the_timed_segments(api: Api) -> None:
    headers = bearer(api.register()["access_token"])
    response = api.client.get(
        "/api/v1/transcripts",
        params={"url": f"https://www.youtube.com/watch?v={VIDEO}", "language": "en"},
        headers=headers,
    )
    data = response.json()["data"]
    assert data["video_id"] == VIDEO
    assert data["language"] == "en"
    assert len(data["segments"]) == 60
    assert data["segments"][1] == {"start": 7.0, "duration": 7.0, "text": CUES[1][2]}


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("private", 404, "video_unavailable"),
        ("removed", 404, "video_unavailable"),
        ("no_captions", 422, "captions_unavailable"),
        ("youtube_down", 502, "youtube_unreachable"),
    ],
)
def test_youtube_failures_each_get_their_own_code(
    api: Api, yt: FakeYouTube, setup: str, status: int, code: str
) -> None:
    if setup in ("private", "removed"):
        yt.videos[VIDEO].status = setup  # type: ignore[assignment]
    elif setup == "no_captions":
        yt.videos[VIDEO].captions = {}
    else:
        yt.broken = True
    response = api.client.get("/api/transcript", params={"url": f"https://youtu.be/{VIDEO}"})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["success"] is False


@pytest.mark.parametrize("url", ["https://vimeo.com/123", "not a link", f"https://youtube.com/watch?v={VIDEO}&v=x"])
def test_links_that_are_not_youtube_videos_are_400(api: Api, url: str) -> None:
    response = api.client.get("/api/transcript", params={"url": url})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_url"


def test_the_url_parameter_is_required(api: Api) -> None:
    response = api.client.get("/api/transcript")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "url"


def test_processing_a_url_uses_the_captions_and_keeps_the_video(
    settings: Settings, yt: FakeYouTube, llm: FakeLLMServer
) -> None:
    with make_client(
        msgspec.structs.replace(
            settings,
            youtube_base_url=yt.url,
            anthropic_api_key="server-key",
            anthropic_base_url=llm.url,
            ai_chain=["anthropic"],
        )
    ) as client:
        api = Api(client)
        headers = bearer(api.register()["access_token"])
        response = client.post(
            "/api/v1/process",
            json={
                "url": f"https://www.youtube.com/shorts/{VIDEO}",
                "outputs": ["topics", "mind_map"],
                "language": "en",
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["transcript"]["video_id"] == VIDEO
        assert data["transcript"]["title"] == "How leaves make food"
        [prompt] = [r.prompt for r in llm.requests if r.kind == "topics+mind_map"]  # one call for both
        assert "Video title: How leaves make food" in prompt
        assert "[00:35] Cue 5" in prompt
        assert any(t["timestamp"] is not None for t in data["key_topics"])
        nodes = data["mind_map"]["nodes"]
        stamps = [n["data"]["timestamp"] for n in nodes if n["data"]["timestamp"] is not None]
        assert stamps
        assert all(0 <= stamp <= 420 for stamp in stamps)


def test_anonymous_access_can_be_switched_off(settings: Settings, yt: FakeYouTube) -> None:
    closed = msgspec.structs.replace(settings, youtube_base_url=yt.url, anonymous_processing=False)
    with make_client(closed) as client:
        response = client.get("/api/transcript", params={"url": f"https://youtu.be/{VIDEO}"})
        assert response.status_code == 401
        body = {"transcript": "Some words here.", "purpose": "learning"}
        assert client.post("/api/ai/process-transcript", json=body).status_code == 401


def test_anonymous_callers_are_limited_per_address(settings: Settings, yt: FakeYouTube) -> None:
    tight = msgspec.structs.replace(settings, youtube_base_url=yt.url, anonymous_requests_per_window=2)
    with make_client(tight) as client:
        codes = [
            client.get("/api/transcript", params={"url": f"https://youtu.be/{VIDEO}"}).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
