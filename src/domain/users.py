"""Users: who they are, what they may do, and the rules for their fields."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError, InvalidField

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit; the column is VARCHAR(255)
MAX_DISPLAY_NAME_LENGTH = 100

# Deliberately plain: one @, a dot-atom local part, a domain of LDH labels with a TLD of letters.
# Quoted local parts and IP literals are legal in RFC 5322 but nobody registers with them.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Tier(StrEnum):
    FREE = "free"
    BYOK = "byok"
    PRO = "pro"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Email:
    """A normalised (lower-cased, trimmed) e-mail address."""

    value: str

    def __post_init__(self) -> None:
        if len(self.value) > MAX_EMAIL_LENGTH:
            raise InvalidField(f"must be at most {MAX_EMAIL_LENGTH} characters")
        match = _EMAIL_RE.fullmatch(self.value)
        if match is None or len(match["local"]) > 64:
            raise InvalidField("is not a valid e-mail address")

    @classmethod
    def parse(cls, raw: str) -> Email:
        return cls(raw.strip().lower())


def language_code(raw: str) -> str:
    """An ISO 639-1 code, two lowercase letters (`pl`, `en`, ...)."""
    code = raw.strip().lower()
    if not _LANGUAGE_RE.fullmatch(code):
        raise InvalidField("must be a two-letter ISO 639-1 language code")
    return code


def display_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidField("must not be blank")
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidField(f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters")
    if any(not ch.isprintable() for ch in name):
        raise InvalidField("must not contain control characters")
    return name


class EmailTaken(DomainError):
    def __init__(self) -> None:
        super().__init__("An account with this e-mail address already exists")


class AccountDisabled(DomainError):
    def __init__(self) -> None:
        super().__init__("This account is disabled")


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    password_hash: str
    display_name: str | None
    preferred_language: str
    tier: Tier
    role: Role
    disabled: bool
    email_verified: bool
    usage_count: int
    # Tokens issued before this instant are dead: bumped by password change/reset and "log out everywhere".
    tokens_valid_after: datetime
    created_at: datetime
    updated_at: datetime
    preferred_provider: str | None = None  # tried first when a request names no provider

    @classmethod
    def register(
        cls,
        email: Email,
        password_hash: str,
        now: datetime,
        display_name: str | None = None,
        preferred_language: str = "pl",
        role: Role = Role.USER,
        tier: Tier = Tier.FREE,
    ) -> User:
        return cls(
            id=uuid.uuid4(),
            email=email.value,
            password_hash=password_hash,
            display_name=display_name,
            preferred_language=preferred_language,
            tier=tier,
            role=role,
            disabled=False,
            email_verified=False,
            usage_count=0,
            tokens_valid_after=now,
            created_at=now,
            updated_at=now,
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def accepts_token_issued_at(self, issued_at: datetime) -> bool:
        return issued_at >= self.tokens_valid_after

    def with_changes(self, now: datetime, **changes: object) -> User:
        return replace(self, updated_at=now, **changes)  # type: ignore[arg-type]

    def with_new_password(self, password_hash: str, now: datetime) -> User:
        """A new password ends every session opened before it."""
        return replace(self, password_hash=password_hash, tokens_valid_after=now, updated_at=now)
