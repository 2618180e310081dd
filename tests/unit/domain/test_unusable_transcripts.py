"""A transcript can be well-formed and still not be speech: the domain says why before any provider is asked."""

from __future__ import annotations

import pytest

from domain.transcripts import Segment, Transcript, without_non_speech


def text(body: str) -> Transcript:
    return Transcript(body, (Segment(0.0, 0.0, body),))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("word " * 25, "it repeats fewer than 5 different words"),
        ("la la la la lalala la " * 10, "it repeats fewer than 5 different words"),
        (" ".join(str(n) for n in range(1, 31)), "it has no words, only numbers or symbols"),
        ("a" * 490_000, "its words are not separated by spaces (runs of more than 45 letters)"),
        ("[Music] ♪♪♪ (applause) [Muzyka] " * 10, "it has no words, only numbers or symbols"),
    ],
)
def test_degenerate_text_is_named_for_what_is_wrong_with_it(body: str, reason: str) -> None:
    assert text(body).unusable_reason == reason


@pytest.mark.parametrize(
    "body",
    [
        "The ocean currents move heat from the tropics to the poles and shape the climate of the coasts.",
        "Fotosynteza zachodzi w chloroplastach, a kluczową rolę odgrywa w niej chlorofil i światło słoneczne.",
        "光合作用是植物利用光能把二氧化碳和水转化为有机物并释放氧气的过程。" * 3,  # no spaces, and fine
    ],
)
def test_real_speech_is_usable(body: str) -> None:
    assert text(body).unusable_reason is None


def test_caption_markers_are_not_speech() -> None:
    spoken = without_non_speech("[Music] ♪ the harbour lights ♪ (applause) [♪♪♪] are fading [Muzyka]")
    assert spoken == "the harbour lights are fading"
