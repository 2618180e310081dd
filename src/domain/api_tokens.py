"""Personal API tokens: long-lived, scoped, revocable credentials for scripts and integrations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import DomainError, InvalidField

API_TOKEN_PREFIX = "scribe_"
MAX_TOKEN_NAME_LENGTH = 100


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


class ApiTokenNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("API token not found")


def token_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidField("must not be blank")
    if len(name) > MAX_TOKEN_NAME_LENGTH:
        raise InvalidField(f"must be at most {MAX_TOKEN_NAME_LENGTH} characters")
    if not name.isprintable():
        raise InvalidField("must not contain control or formatting characters")
    return name


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    token_hash: str
    hint: str  # the first characters, so a user can tell tokens apart
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def revoked(self, now: datetime) -> ApiToken:
        return replace(self, revoked_at=self.revoked_at or now)

    def touched(self, now: datetime) -> ApiToken:
        return replace(self, last_used_at=now)
