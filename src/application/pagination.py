"""Keyset pagination: opaque cursors over (created_at, id), newest first."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from application.errors import InvalidCursor
from domain.errors import InvalidInput, Problem

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            created_at, ident = json.loads(raw)
            moment = datetime.fromisoformat(created_at)
            if moment.tzinfo is None:
                raise InvalidCursor
            return cls(moment.astimezone(UTC), uuid.UUID(ident))
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as error:
            raise InvalidCursor from error


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_PAGE_SIZE
    after: Cursor | None = None

    @classmethod
    def of(cls, limit: int | None, cursor: str | None) -> PageRequest:
        size = DEFAULT_PAGE_SIZE if limit is None else limit
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidInput([Problem("limit", f"must be between 1 and {MAX_PAGE_SIZE}")])
        return cls(size, Cursor.decode(cursor) if cursor else None)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None
