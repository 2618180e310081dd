"""A fake YouTube on loopback, serving what youtube-transcript-api 1.2.x reads: the watch page (for the
INNERTUBE_API_KEY), the innertube player POST (playabilityStatus, captions, videoDetails) and the timedtext XML.

Caption `baseUrl`s point at https://www.youtube.com like the real ones, so a client must re-base every URL onto
`fake.url`, as YouTubeTranscriptSource(base_url=fake.url) does.

    with FakeYouTube() as fake:
        fake.videos["dQw4w9WgXcQ"] = FakeVideo("Title", "Description", captions={"en": [(0.0, 2.5, "Hello")]})
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from tests.fakes.http_server import HttpRequest, HttpResponse, LoopbackServer

INNERTUBE_API_KEY = "AIzaSyFakeInnertubeKey0123456789abcdefg"
REAL_ORIGIN = "https://www.youtube.com"

VideoStatus = Literal["OK", "private", "removed", "age_restricted", "bot_check"]
Cue = tuple[float, float, str]  # start, duration (seconds), text

# What the player endpoint says for each status; youtube-transcript-api maps these reasons to its errors.
_PLAYABILITY: dict[str, dict[str, Any]] = {
    "OK": {"status": "OK", "playableInEmbed": True},
    "private": {
        "status": "LOGIN_REQUIRED",
        "reason": "This video is private",
        "errorScreen": {
            "playerErrorMessageRenderer": {
                "subreason": {"runs": [{"text": "Sign in if you've been granted access to this video"}]}
            }
        },
    },
    "removed": {"status": "ERROR", "reason": "This video is unavailable"},
    "age_restricted": {"status": "LOGIN_REQUIRED", "reason": "This video may be inappropriate for some users."},
    # YouTube's own wording, typographic apostrophe included: the library compares it exactly.
    "bot_check": {"status": "LOGIN_REQUIRED", "reason": "Sign in to confirm you\u2019re not a bot"},
}
_LANGUAGE_NAMES = {"en": "English", "pl": "Polish", "de": "German", "fr": "French", "es": "Spanish"}


@dataclass
class FakeVideo:
    title: str = "A fake video"
    description: str = ""
    captions: dict[str, list[Cue]] = field(default_factory=dict)  # language code -> cues; empty: captions disabled
    generated_languages: frozenset[str] = frozenset()  # which of `captions` are auto-generated (ASR) tracks
    status: VideoStatus = "OK"
    length_seconds: int = 600


@dataclass(frozen=True, slots=True)
class RecordedYouTubeRequest:
    method: str
    path: str
    query: dict[str, str]


class FakeYouTube(LoopbackServer):
    """Unknown video ids answer like removed videos. `broken = True` makes every request a 500."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(self._handle, host, port)
        self._lock = threading.Lock()
        self._requests: list[RecordedYouTubeRequest] = []
        self.videos: dict[str, FakeVideo] = {}
        self.broken = False

    @property
    def requests(self) -> list[RecordedYouTubeRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
        self.videos.clear()
        self.broken = False

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self._requests.append(RecordedYouTubeRequest(request.method, request.path, request.query))
        if self.broken:
            return HttpResponse(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        if request.method == "GET" and request.path == "/watch":
            return self._watch_page(request.query.get("v", ""))
        if request.method == "POST" and request.path == "/youtubei/v1/player":
            return self._player(request)
        if request.method == "GET" and request.path == "/api/timedtext":
            return self._timedtext(request.query)
        return HttpResponse(404, b"<html><body>Not Found</body></html>", "text/html")

    def _watch_page(self, video_id: str) -> HttpResponse:
        video = self.videos.get(video_id)
        title = html.escape(video.title if video else "YouTube")
        page = (
            f"<!DOCTYPE html><html><head><title>{title} - YouTube</title></head><body>"
            f'<script>ytcfg.set({{"INNERTUBE_API_KEY":"{INNERTUBE_API_KEY}","INNERTUBE_CLIENT_NAME":"WEB"}});</script>'
            "</body></html>"
        )
        return HttpResponse(200, page.encode(), "text/html; charset=utf-8")

    def _player(self, request: HttpRequest) -> HttpResponse:
        if request.query.get("key") != INNERTUBE_API_KEY:
            error = {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
            }
            return HttpResponse.of_json(400, {"error": error})
        video_id = str(request.json().get("videoId", ""))
        video = self.videos.get(video_id)
        if video is None:
            return HttpResponse.of_json(200, {"playabilityStatus": _PLAYABILITY["removed"]})
        player: dict[str, Any] = {"playabilityStatus": _PLAYABILITY[video.status]}
        if video.status != "OK":
            return HttpResponse.of_json(200, player)
        player["videoDetails"] = {
            "videoId": video_id,
            "title": video.title,
            "lengthSeconds": str(video.length_seconds),
            "shortDescription": video.description,
            "author": "Fake Channel",
            "isPrivate": False,
        }
        if video.captions:
            player["captions"] = {"playerCaptionsTracklistRenderer": _tracklist(video_id, video)}
        return HttpResponse.of_json(200, player)

    def _timedtext(self, query: dict[str, str]) -> HttpResponse:
        video = self.videos.get(query.get("v", ""))
        cues = video.captions.get(query.get("lang", "")) if video and video.status == "OK" else None
        if cues is None:
            return HttpResponse(404, b"", "text/html")
        texts = "".join(
            f"<text start={quoteattr(f'{start:g}')} dur={quoteattr(f'{duration:g}')}>{escape(text)}</text>"
            for start, duration, text in cues
        )
        xml = f'<?xml version="1.0" encoding="utf-8" ?><transcript>{texts}</transcript>'
        return HttpResponse(200, xml.encode(), "text/xml; charset=UTF-8")


def _tracklist(video_id: str, video: FakeVideo) -> dict[str, Any]:
    tracks = []
    for code in video.captions:
        generated = code in video.generated_languages
        query = {"v": video_id, "lang": code, **({"kind": "asr"} if generated else {}), "fmt": "srv3"}
        name = _LANGUAGE_NAMES.get(code, code) + (" (auto-generated)" if generated else "")
        track: dict[str, Any] = {
            "baseUrl": f"{REAL_ORIGIN}/api/timedtext?{urlencode(query)}",
            "name": {"runs": [{"text": name}]},
            "vssId": f"{'a' if generated else ''}.{code}",
            "languageCode": code,
            "isTranslatable": True,
        }
        if generated:
            track["kind"] = "asr"
        tracks.append(track)
    languages = [
        {"languageCode": code, "languageName": {"runs": [{"text": name}]}} for code, name in _LANGUAGE_NAMES.items()
    ]
    return {"captionTracks": tracks, "translationLanguages": languages}
