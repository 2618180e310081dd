"""History: every processing result, kept for the user who asked for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.errors import DomainError
from domain.usage import Attribution, Spend


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: uuid.UUID
    user_id: uuid.UUID
    transcript_hash: str
    purpose: str | None
    outputs: str  # the outputs produced, space-separated (e.g. "summary topics mind_map")
    summary: str | None
    topics: str | None
    key_topics: list[dict[str, Any]] | None  # [{"title", "timestamp"}]
    mind_map: dict[str, Any] | None
    social_post: str | None
    custom_prompt: str | None
    custom_output: str | None
    video_id: str | None
    video_url: str | None
    title: str | None
    language: str
    provider: str  # the one that served most outputs; `attribution` has each output's
    model: str
    spend: Spend
    attribution: Attribution | None  # None on rows written before per-output attribution
    duration_ms: int
    cached: bool
    created_at: datetime

    def searchable_fields(self) -> dict[str, str | None]:
        """What full-text search reads, in the order a snippet prefers them."""
        return {
            "title": self.title,
            "summary": self.summary,
            "topics": self.topics,
            "social_post": self.social_post,
            "custom_output": self.custom_output,
        }


class HistoryEntryNotFound(DomainError):
    """Also what another user's entry looks like: its existence is not confirmed."""

    def __init__(self) -> None:
        super().__init__("History entry not found")
