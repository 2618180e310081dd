from __future__ import annotations

import contextlib
import hashlib
import string
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.transcripts import (
    EmptyTranscript,
    InvalidVideoUrl,
    Segment,
    Transcript,
    VideoRef,
    format_timestamp,
    parse_transcript,
    transcript_hash,
)

VIDEO_ID = "dQw4w9WgXcQ"
video_ids = st.text(string.ascii_letters + string.digits + "-_", min_size=11, max_size=11)


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={VIDEO_ID}",
        f"https://youtube.com/watch?v={VIDEO_ID}&t=42s&list=PL123",
        f"http://m.youtube.com/watch?feature=share&v={VIDEO_ID}",
        f"youtube.com/watch?v={VIDEO_ID}",
        f"https://youtu.be/{VIDEO_ID}?si=abc",
        f"https://www.youtube.com/shorts/{VIDEO_ID}",
        f"https://www.youtube.com/embed/{VIDEO_ID}?autoplay=1",
        f"https://www.youtube.com/live/{VIDEO_ID}?feature=shared",
        f"https://music.youtube.com/watch?v={VIDEO_ID}",
        f"  https://youtu.be/{VIDEO_ID}  ",
        f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}",
        f"https://www.youtu.be/{VIDEO_ID}",
    ],
)
def test_every_youtube_link_form_gives_the_video_id(url: str) -> None:
    assert VideoRef.parse(url).video_id == VIDEO_ID


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        f"https://vimeo.com/{VIDEO_ID}",
        f"https://www.youtube.com.evil.example/watch?v={VIDEO_ID}",
        f"https://evil.example/?u=https://youtu.be/{VIDEO_ID}",
        "https://www.youtube.com/watch?v=short",
        f"https://www.youtube.com/watch?v={VIDEO_ID}x",
        f"https://www.youtube.com/watch?v={VIDEO_ID}&v={VIDEO_ID}",
        "https://www.youtube.com/channel/UCabcdefghijk",
        f"ftp://youtu.be/{VIDEO_ID}",
        f"javascript:alert(1)//youtu.be/{VIDEO_ID}",
        "https://[::1/watch",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(InvalidVideoUrl):
        VideoRef.parse(url)


@given(video_ids, st.sampled_from(["watch?v={}", "shorts/{}", "embed/{}", "live/{}"]), st.booleans())
def test_generated_links_round_trip(video_id: str, form: str, extra: bool) -> None:
    url = f"https://www.youtube.com/{form.format(video_id)}" + ("&t=1" if extra and "?" in form else "")
    ref = VideoRef.parse(url)
    assert ref.video_id == video_id
    assert VideoRef.parse(ref.url) == ref


@given(st.text(max_size=200))
def test_the_parser_never_fails_with_anything_but_invalid_url(text: str) -> None:
    with contextlib.suppress(InvalidVideoUrl):
        VideoRef.parse(text)


SRT = """1
00:00:01,000 --> 00:00:04,500
Dzień dobry, dzisiaj o <i>fotosyntezie</i>.

2
00:00:04,500 --> 00:00:09,000
Rośliny zamieniają światło w energię.

3
00:01:02,000 --> 00:01:05,250
To wszystko na dziś.
"""

VTT = """WEBVTT
Kind: captions
Language: en

NOTE a comment block

00:00.000 --> 00:03.000 align:start position:0%
<v Speaker>Hello and welcome</v>

00:03.000 --> 00:06.000
<c.colorE5E5E5>Hello and welcome</c>

01:00:03.000 --> 01:00:06.500
Plants &amp; light
"""


def test_srt_cues_become_timed_segments_without_markup() -> None:
    transcript = parse_transcript(SRT)
    assert transcript.source == "srt"
    assert transcript.has_timestamps
    assert transcript.segments[0] == Segment(1.0, 3.5, "Dzień dobry, dzisiaj o fotosyntezie.")
    assert transcript.segments[2].start == 62.0
    assert transcript.text.startswith("Dzień dobry, dzisiaj o fotosyntezie. Rośliny")


def test_vtt_drops_headers_notes_repeats_and_decodes_entities() -> None:
    transcript = parse_transcript(VTT)
    assert transcript.source == "vtt"
    assert [s.text for s in transcript.segments] == ["Hello and welcome", "Plants & light"]
    assert transcript.segments[1].start == 3603.0
    assert transcript.duration == pytest.approx(3606.5)


def test_plain_text_is_one_untimed_segment_with_whitespace_collapsed() -> None:
    transcript = parse_transcript("  Hello\r\n\r\nworld \t again ")
    assert transcript.source == "text"
    assert not transcript.has_timestamps
    assert transcript.text == "Hello world again"
    assert transcript.words == 3


@pytest.mark.parametrize("raw", ["", "   \n\t ", "WEBVTT\n\nNOTE nothing here\n"])
def test_empty_transcripts_are_refused(raw: str) -> None:
    with pytest.raises(EmptyTranscript):
        parse_transcript(raw)


@given(
    st.lists(
        st.tuples(st.integers(0, 20_000), st.integers(1, 30), st.text(string.ascii_letters + " ,.", min_size=1)),
        min_size=1,
        max_size=30,
    )
)
def test_srt_written_from_cues_parses_back_to_them(cues: list[tuple[int, int, str]]) -> None:
    def stamp(seconds: int) -> str:
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d},000"

    blocks = [f"{i + 1}\n{stamp(s)} --> {stamp(s + d)}\n{text}" for i, (s, d, text) in enumerate(cues)]
    kept = []
    for start, duration, text in cues:
        body = " ".join(text.split())
        if body and (not kept or kept[-1][2] != body):
            kept.append((float(start), float(duration), body))
    try:
        transcript = parse_transcript("\n\n".join(blocks) + "\n")
    except EmptyTranscript:
        assert not kept
        return
    assert [(s.start, s.duration, s.text) for s in transcript.segments] == kept


@given(st.text(min_size=1).filter(lambda t: t.strip()))
def test_the_hash_is_sha256_of_the_normalised_text(text: str) -> None:
    digest = transcript_hash(text)
    assert len(digest) == 64
    assert digest == digest.lower()
    assert transcript_hash(f"  {text}\n") == digest
    assert digest == hashlib.sha256(" ".join(unicodedata.normalize("NFC", text).split()).encode()).hexdigest()


def test_timestamps_read_like_a_video_player() -> None:
    assert format_timestamp(0) == "00:00"
    assert format_timestamp(75.9) == "01:15"
    assert format_timestamp(3723) == "1:02:03"


def test_a_transcript_needs_text() -> None:
    with pytest.raises(EmptyTranscript):
        Transcript(text=" ", segments=())


@pytest.mark.parametrize(
    ("text", "minimum", "enough"),
    [
        ("Hello", 1, True),
        ("🚀 !!! …", 1, False),  # punctuation and emoji are not words
        ("This is a test transcript for AI.", 1, True),
        ("This is a test transcript for AI.", 20, False),
        (" ".join(["word"] * 20), 20, True),
        ("光合作用" * 25, 20, True),  # 100 letters of a script without spaces count as 20 words
        ("光合作用" * 24, 20, False),
    ],
)
def test_a_transcript_has_words_with_letters_or_digits_in_them(text: str, minimum: int, enough: bool) -> None:
    assert parse_transcript(text).has_words(minimum) is enough
