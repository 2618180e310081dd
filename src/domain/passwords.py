"""NIST SP 800-63B password rules: length, a blocklist, no composition rules."""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import cache
from importlib.resources import files

from domain.errors import InvalidField

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_PADDING = re.compile(r"^[\W\d_]*(?P<core>.*?)[\W\d_]*$")
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")


def normalize_password(raw: str) -> str:
    """NFKC, as NIST 800-63B asks: the same password typed on another keyboard or OS must match."""
    return unicodedata.normalize("NFKC", raw)


@cache
def common_passwords() -> frozenset[str]:
    text = files("domain").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_new_password(password: str, context_words: tuple[str, ...] = ()) -> None:
    """Refuse a password a guesser would try early. `context_words`: the e-mail's parts, the service name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidField(f"must be at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if len(set(lowered)) <= 2 or _is_sequence(lowered):
        raise InvalidField("is too predictable (repeated or sequential characters)")
    if _is_common(lowered):
        raise InvalidField("is too common; choose a longer phrase that others would not guess")
    for word in context_words:
        if len(word) >= 4 and word.lower() in lowered and len(lowered) - len(word) < 8:
            raise InvalidField("is too close to your e-mail address or this service's name")


def _is_common(lowered: str) -> bool:
    """A listed password, alone, padded with digits/symbols, or repeated (`password2024!`, `qwertyqwerty`)."""
    listed = common_passwords()
    match = _PADDING.match(lowered)
    core = match["core"] if match else lowered
    if lowered in listed or core in listed:
        return True
    for size in range(4, len(core) // 2 + 1):
        if len(core) % size == 0 and core[:size] * (len(core) // size) == core and core[:size] in listed:
            return True
    return False


def _is_sequence(lowered: str) -> bool:
    """A run along the alphabet, the digits (wrapping 9→0) or a keyboard row, either way."""
    if any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES):
        return True
    if lowered.isdigit():
        steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(lowered)}
        return steps in ({1}, {9})
    return False


def context_words(email: str) -> tuple[str, ...]:
    """Words a guesser tries first for this account: the e-mail's local part, its domain, the service."""
    local, _, domain = email.lower().partition("@")
    return (local, domain.split(".")[0], "scribe")
