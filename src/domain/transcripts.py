"""Transcripts: where they come from (a YouTube URL, pasted text, SRT/WebVTT) and what they are once read."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from domain.errors import DomainError

MAX_TRANSCRIPT_CHARS = 500_000
MIN_TRANSCRIPT_WORDS = 20  # below this there is little to summarise, map or post about
LETTERS_PER_WORD = 5  # how scripts written without spaces (Chinese, Japanese) are counted in words
MAX_CUE_SECONDS = 1_000_000.0  # ~11 days: later cue times are typos, not videos
MIN_DISTINCT_WORDS = 5  # fewer different words than this, in a text long enough to judge, is a repeated token
REPETITION_JUDGED_FROM_WORDS = 20  # a shorter text is short, not repetitive: "Hello" is processed, as by the prototype
MAX_WORD_LETTERS = 45  # longer runs of letters without a space are no word of a language written with spaces
# Sounds the captions describe rather than words spoken: [Music], [Muzyka], (applause), ♪ and the like.
_NON_SPEECH = re.compile(
    r"\[[^\]]{0,40}\]|\((?:applause|laughter|laughs|music|brawa|oklaski|śmiech|muzyka)\)|[♪♫♬]+", re.I
)
# Scripts written without spaces between words: Han, kana, Hangul, Thai, Lao, Khmer, Myanmar.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "www.youtube-nocookie.com"}
)
_SHORT_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_PATH_FORMS = ("shorts", "embed", "live", "v", "e")


class InvalidVideoUrl(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "The URL is not a YouTube video link (watch, youtu.be, shorts, embed or live, with an 11-character id)"
        )


class VideoUnavailable(DomainError):
    """Private, removed, age-restricted or otherwise not playable: nothing to read."""

    def __init__(self, video_id: str) -> None:
        super().__init__(f"Video {video_id} is unavailable (private, removed or restricted)")


class CaptionsUnavailable(DomainError):
    def __init__(self, video_id: str) -> None:
        super().__init__(f"Video {video_id} has no captions we can read; paste its transcript instead")


class EmptyTranscript(DomainError):
    def __init__(self) -> None:
        super().__init__("The transcript has no text")


class TranscriptUnusable(DomainError):
    """Well-formed, but nothing a reader could learn from: the client sent something other than speech."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The transcript cannot be processed: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VideoRef:
    video_id: str

    @property
    def url(self) -> str:
        return f"https://www.youtube.com/watch?v={self.video_id}"

    @classmethod
    def parse(cls, raw: str) -> VideoRef:
        """Accepts watch, youtu.be, shorts, embed and live links, with or without scheme, `www.`/`m.`, and extra
        parameters (`t=`, `si=`, `list=` ...). Anything else raises InvalidVideoUrl."""
        text = raw.strip()
        if not text or len(text) > 2048 or any(ch.isspace() for ch in text):
            raise InvalidVideoUrl
        if "://" not in text:
            text = "https://" + text
        try:
            parts = urlsplit(text)
            host = (parts.hostname or "").lower()
        except ValueError:
            raise InvalidVideoUrl from None
        if parts.scheme.lower() not in ("http", "https"):
            raise InvalidVideoUrl
        segments = [s for s in parts.path.split("/") if s]
        candidate = ""
        if host in _SHORT_HOSTS and len(segments) == 1:
            candidate = segments[0]
        elif host in _YOUTUBE_HOSTS:
            if segments == ["watch"]:
                values = parse_qs(parts.query).get("v", [])
                candidate = values[0] if len(values) == 1 else ""
            elif len(segments) == 2 and segments[0] in _PATH_FORMS:
                candidate = segments[1]
        if not _VIDEO_ID.fullmatch(candidate):
            raise InvalidVideoUrl
        return cls(candidate)


@dataclass(frozen=True, slots=True)
class Segment:
    start: float  # seconds from the start of the video
    duration: float
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...]
    language: str | None = None
    title: str | None = None
    description: str | None = None
    video: VideoRef | None = None
    source: str = "text"  # youtube | text | srt | vtt
    words: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise EmptyTranscript
        object.__setattr__(self, "words", len(self.text.split()))

    @property
    def hash(self) -> str:
        return transcript_hash(self.text)

    @property
    def video_id(self) -> str | None:
        return self.video.video_id if self.video else None

    @property
    def video_url(self) -> str | None:
        return self.video.url if self.video else None

    @property
    def has_timestamps(self) -> bool:
        return self.source != "text"

    @property
    def duration(self) -> float:
        last = self.segments[-1] if self.segments else None
        return last.start + last.duration if last else 0.0

    def has_words(self, minimum: int) -> bool:
        """At least `minimum` words with a letter or digit in them (punctuation and emoji runs do not count), or
        `LETTERS_PER_WORD` letters per word for scripts without spaces."""
        words = 0
        for word in self.text.split():  # stops at `minimum`: a long transcript is answered at once
            words += any(ch.isalnum() for ch in word)
            if words >= minimum:
                return True
        letters = minimum * LETTERS_PER_WORD
        return sum(ch.isalnum() for ch in self.text[: letters * 8]) >= letters

    @property
    def unusable_reason(self) -> str | None:
        """Why the text is not speech anyone could summarise (a repeated token, numbers only, one endless "word"),
        or None. Non-speech markers do not count as words."""
        tokens = without_non_speech(self.text[:MAX_TRANSCRIPT_CHARS]).split()
        words = [t for t in tokens if any(ch.isalpha() for ch in t)]
        if not words:
            return "it has no words, only numbers or symbols"
        if _UNSPACED.search(self.text[:2000]):
            distinct_characters = {ch for ch in self.text[:20_000] if ch.isalpha()}
            return None if len(distinct_characters) >= MIN_DISTINCT_WORDS else "it repeats the same few characters"
        if sum(len(w) > MAX_WORD_LETTERS for w in words) * 2 > len(words):
            return f"its words are not separated by spaces (runs of more than {MAX_WORD_LETTERS} letters)"
        distinct = {w.lower().strip(".,;:!?\"'") for w in words}
        if len(words) >= REPETITION_JUDGED_FROM_WORDS and len(distinct) < MIN_DISTINCT_WORDS:
            return f"it repeats fewer than {MIN_DISTINCT_WORDS} different words"
        return None

    @classmethod
    def from_segments(cls, segments: list[Segment], source: str, **details: object) -> Transcript:
        cleaned = (Segment(s.start, s.duration, " ".join(without_control_characters(s.text).split())) for s in segments)
        kept = tuple(s for s in cleaned if s.text)
        details = {k: without_control_characters(v) if isinstance(v, str) else v for k, v in details.items()}
        return cls(text=" ".join(s.text for s in kept), segments=kept, source=source, **details)  # type: ignore[arg-type]


def without_control_characters(text: str) -> str:
    """NUL and other control characters removed: databases refuse some, and nobody means them."""
    return _CONTROL.sub("", text)


def without_non_speech(text: str) -> str:
    """The words spoken: caption markers for music, applause and other sounds removed, whitespace collapsed."""
    return " ".join(_NON_SPEECH.sub(" ", text).split())


def normalise(text: str) -> str:
    """What the hash is taken over: NFC, whitespace runs collapsed, trimmed. Case is kept (it can carry meaning)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def transcript_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def format_timestamp(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


_CUE_TIME = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_TAG = re.compile(r"<[^>]{0,200}>")


def _seconds(stamp: str) -> float:
    parts = stamp.replace(",", ".").split(":")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    return value


def parse_transcript(raw: str) -> Transcript:
    """Pasted text as it comes: WebVTT (`WEBVTT` header), SRT (numbered cues with `-->` times) or plain text.
    Cue text loses its markup (`<i>`, `<c.colour>`, voice tags); cues that repeat the previous line (common in
    auto-generated captions) are dropped."""
    text = without_control_characters(raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    if len(text) > MAX_TRANSCRIPT_CHARS:
        text = text[:MAX_TRANSCRIPT_CHARS]
    stripped = text.lstrip()
    if stripped.startswith("WEBVTT"):
        return Transcript.from_segments(_cues(stripped), "vtt")
    first_lines = [line for line in stripped.split("\n", 3)[:3] if line.strip()]
    if len(first_lines) >= 2 and first_lines[0].strip().isdigit() and _CUE_TIME.match(first_lines[1]):
        return Transcript.from_segments(_cues(stripped), "srt")
    if not text.strip():
        raise EmptyTranscript
    return Transcript(text=normalise(text), segments=(Segment(0.0, 0.0, normalise(text)),), source="text")


def _cues(text: str) -> list[Segment]:
    segments: list[Segment] = []
    previous = ""
    for block in re.split(r"\n\s*\n", text):
        lines = block.split("\n")
        timing = next((i for i, line in enumerate(lines) if _CUE_TIME.match(line)), None)
        if timing is None:
            continue  # header, NOTE, STYLE or REGION blocks
        match = _CUE_TIME.match(lines[timing])
        assert match is not None
        start, end = _seconds(match["start"]), _seconds(match["end"])
        if not 0 <= start <= MAX_CUE_SECONDS or not 0 <= end <= MAX_CUE_SECONDS:  # also drops inf and nan
            continue
        body = " ".join(_TAG.sub("", line).strip() for line in lines[timing + 1 :])
        body = " ".join(body.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").split())
        if not body or body == previous:
            continue
        previous = body
        segments.append(Segment(start, max(0.0, end - start), body))
    if not segments:
        raise EmptyTranscript
    return segments
