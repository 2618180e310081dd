"""YouTubeTranscriptSource with the real youtube-transcript-api against a fake YouTube on loopback."""

from __future__ import annotations

import socket

import pytest

from application.errors import TranscriptSourceUnreachable
from domain.transcripts import (
    CaptionsUnavailable,
    Segment,
    VideoRef,
    VideoUnavailable,
)
from infrastructure.transcripts.youtube import YouTubeTranscriptSource
from tests.fakes.youtube_server import FakeVideo, FakeYouTube, VideoStatus

VIDEO = VideoRef("dQw4w9WgXcQ")
ENGLISH = [(0.0, 2.5, "Welcome to the lesson."), (2.5, 3.0, "Today we learn &amp; practise <b>caching</b>.")]
POLISH = [(0.0, 2.0, "Witamy na lekcji."), (2.0, 4.25, "Dziś uczymy się cache'owania.")]
GERMAN = [(1.0, 2.0, "Willkommen zur Lektion.")]


@pytest.fixture
def source(youtube: FakeYouTube) -> YouTubeTranscriptSource:
    return YouTubeTranscriptSource(youtube.url, timeout=5)


async def test_captions_in_the_requested_language_with_title_and_description(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(
        "Caching in ten minutes", "Notes and links:\nhttps://example.com", captions={"en": ENGLISH, "pl": POLISH}
    )
    transcript = await source.fetch(VIDEO, "pl")
    assert transcript.language == "pl"
    assert transcript.text == "Witamy na lekcji. Dziś uczymy się cache'owania."
    assert transcript.title == "Caching in ten minutes"
    assert transcript.description == "Notes and links:\nhttps://example.com"
    assert transcript.source == "youtube"
    assert transcript.video == VIDEO
    # watch page, player, captions: the title and description cost no extra request
    assert [request.path for request in youtube.requests] == ["/watch", "/youtubei/v1/player", "/api/timedtext"]


async def test_timestamps_are_preserved_and_markup_is_removed(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"en": ENGLISH})
    transcript = await source.fetch(VIDEO, "en")
    assert transcript.segments == (
        Segment(0.0, 2.5, "Welcome to the lesson."),
        Segment(2.5, 3.0, "Today we learn & practise caching."),
    )
    assert transcript.duration == 5.5


async def test_another_language_when_the_requested_one_is_missing_manual_before_generated(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(
        captions={"en": ENGLISH, "de": GERMAN}, generated_languages=frozenset({"en"})
    )
    transcript = await source.fetch(VIDEO, "pl")
    assert transcript.language == "de"
    assert transcript.text == "Willkommen zur Lektion."


async def test_the_requested_language_wins_even_when_generated(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(
        captions={"de": GERMAN, "pl": POLISH}, generated_languages=frozenset({"pl"})
    )
    assert (await source.fetch(VIDEO, "pl")).language == "pl"


async def test_a_regional_variant_of_the_requested_language_comes_before_other_languages(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"de": GERMAN, "en-GB": ENGLISH})
    assert (await source.fetch(VIDEO, "en")).language == "en-GB"


async def test_generated_only_captions(youtube: FakeYouTube, source: YouTubeTranscriptSource) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"en": ENGLISH}, generated_languages=frozenset({"en"}))
    transcript = await source.fetch(VIDEO, "pl")
    assert transcript.language == "en"
    assert transcript.text.startswith("Welcome to the lesson.")


@pytest.mark.parametrize("status", ["private", "removed", "age_restricted"])
async def test_a_video_that_cannot_be_played_is_unavailable(
    youtube: FakeYouTube, source: YouTubeTranscriptSource, status: VideoStatus
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"en": ENGLISH}, status=status)
    with pytest.raises(VideoUnavailable):
        await source.fetch(VIDEO, "en")


async def test_an_unknown_video_is_unavailable(source: YouTubeTranscriptSource) -> None:
    with pytest.raises(VideoUnavailable):
        await source.fetch(VideoRef("AAAAAAAAAAA"), "en")


async def test_a_video_without_captions_has_captions_unavailable(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(title="Silent film")
    with pytest.raises(CaptionsUnavailable):
        await source.fetch(VIDEO, "en")


async def test_captions_with_no_text_are_captions_unavailable(
    youtube: FakeYouTube, source: YouTubeTranscriptSource
) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"en": [(0.0, 1.0, "  ")]})
    with pytest.raises(CaptionsUnavailable):
        await source.fetch(VIDEO, "en")


async def test_youtube_answering_500_is_unreachable(youtube: FakeYouTube, source: YouTubeTranscriptSource) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"en": ENGLISH})
    youtube.broken = True
    with pytest.raises(TranscriptSourceUnreachable):
        await source.fetch(VIDEO, "en")


async def test_a_bot_check_is_unreachable(youtube: FakeYouTube, source: YouTubeTranscriptSource) -> None:
    youtube.videos[VIDEO.video_id] = FakeVideo(captions={"en": ENGLISH}, status="bot_check")
    with pytest.raises(TranscriptSourceUnreachable):
        await source.fetch(VIDEO, "en")


async def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(TranscriptSourceUnreachable):
        await YouTubeTranscriptSource(f"http://127.0.0.1:{closed_port}", timeout=2).fetch(VIDEO, "en")


async def test_a_silent_server_times_out_as_unreachable() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(TranscriptSourceUnreachable):
            await YouTubeTranscriptSource(f"http://127.0.0.1:{port}", timeout=0.3).fetch(VIDEO, "en")
