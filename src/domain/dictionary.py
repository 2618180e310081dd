"""The prototype's dictionaries: codes and their (Polish-first) labels, kept exactly."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class DictionaryEntry:
    code: str
    label: str


DICTIONARIES: dict[str, tuple[DictionaryEntry, ...]] = {
    "purpose": (
        DictionaryEntry("learning", "Nauka"),
        DictionaryEntry("social_media", "Media społecznościowe"),
        DictionaryEntry("custom", "Niestandardowy"),
    ),
    "language": (
        DictionaryEntry("pl", "Polski"),
        DictionaryEntry("en", "English"),
    ),
}


class UnknownDictionary(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(f"Unknown dictionary code '{code}'; expected one of: {', '.join(DICTIONARIES)}")
        self.code = code


def dictionary(code: str) -> tuple[DictionaryEntry, ...]:
    try:
        return DICTIONARIES[code]
    except KeyError:
        raise UnknownDictionary(code) from None
