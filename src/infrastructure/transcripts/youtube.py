"""YouTube captions with the video's title and description, read with youtube-transcript-api (SPEC §4 "Content
beyond the transcript")."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
import youtube_transcript_api as youtube

from application.errors import TranscriptSourceUnreachable
from domain.transcripts import (
    CaptionsUnavailable,
    EmptyTranscript,
    Segment,
    Transcript,
    VideoRef,
    VideoUnavailable,
)

log = structlog.get_logger("scribe.youtube")

YOUTUBE_ORIGIN = "https://www.youtube.com"
_PLAYER_PATH = "/youtubei/v1/player"


class _YouTubeSession(requests.Session):
    """Every request gets the timeout and is re-based from YOUTUBE_ORIGIN onto `base_url` (how tests reach a fake).
    It also keeps the player response's `videoDetails`: the library reads that response for the caption tracks and
    drops the rest, so keeping it here gives the title and description without a second request."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self.video_details: dict[str, Any] = {}

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url = url.decode() if isinstance(url, bytes) else url
        if self._base_url != YOUTUBE_ORIGIN and (url == YOUTUBE_ORIGIN or url.startswith(YOUTUBE_ORIGIN + "/")):
            url = self._base_url + url[len(YOUTUBE_ORIGIN) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        response = super().request(method, url, *args, **kwargs)
        if urlsplit(url).path == _PLAYER_PATH and response.ok:
            self._keep_video_details(response)
        return response

    def _keep_video_details(self, response: requests.Response) -> None:
        try:
            details = response.json().get("videoDetails")
        except (ValueError, AttributeError):
            return  # not the JSON object we expect; the library reports that itself
        if isinstance(details, dict):
            self.video_details = details


class YouTubeTranscriptSource:
    def __init__(self, base_url: str = YOUTUBE_ORIGIN, timeout: float = 15.0) -> None:
        self._base_url = base_url
        self._timeout = timeout

    async def fetch(self, video: VideoRef, language: str) -> Transcript:
        # The library is synchronous; a session per call keeps calls independent (requests.Session is not
        # thread-safe, and each call collects its own video details).
        return await asyncio.to_thread(self._fetch, video, language)

    def _fetch(self, video: VideoRef, language: str) -> Transcript:
        session = _YouTubeSession(self._base_url, self._timeout)
        try:
            with session:
                tracks = list(youtube.YouTubeTranscriptApi(http_client=session).list(video.video_id))
                fetched = _best_track(tracks, language).fetch() if tracks else None
        except (youtube.VideoUnavailable, youtube.VideoUnplayable, youtube.AgeRestricted, youtube.InvalidVideoId):
            raise VideoUnavailable(video.video_id) from None
        except (youtube.TranscriptsDisabled, youtube.NoTranscriptFound):
            raise CaptionsUnavailable(video.video_id) from None
        except Exception as error:
            # Blocked (RequestBlocked, IpBlocked, PoTokenRequired), HTTP errors, timeouts, refused connections and
            # pages or captions we cannot parse: all mean we could not read YouTube right now.
            log.warning("youtube_unreachable", video_id=video.video_id, error=type(error).__name__)
            raise TranscriptSourceUnreachable from error
        if fetched is None:
            raise CaptionsUnavailable(video.video_id)
        details = session.video_details
        try:
            return Transcript.from_segments(
                [Segment(snippet.start, snippet.duration, snippet.text) for snippet in fetched],
                "youtube",
                language=fetched.language_code,
                title=_text(details.get("title")),
                description=_text(details.get("shortDescription")),
                video=video,
            )
        except EmptyTranscript:
            raise CaptionsUnavailable(video.video_id) from None


def _best_track(tracks: list[youtube.Transcript], language: str) -> youtube.Transcript:
    """The requested language (manual before generated), then a regional variant of it (`en-GB` for `en`), then
    any manual track, then any generated one. `tracks` lists manual tracks first, in YouTube's order."""
    wanted = language.lower()

    def rank(track: youtube.Transcript) -> tuple[int, bool]:
        code = track.language_code.lower()
        match = 0 if code == wanted else 1 if code.split("-")[0] == wanted.split("-")[0] else 2
        return match, track.is_generated

    return min(tracks, key=rank)


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
