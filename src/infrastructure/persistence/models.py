"""Tables. `users` and `processing_history` keep the seed schema's names and types (SPEC §3)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from advanced_alchemy.base import DefaultBase
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column


class UserRow(DefaultBase):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    encrypted_api_key: Mapped[str | None] = mapped_column(Text)
    usage_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    updated_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    preferred_language: Mapped[str] = mapped_column(String(8), server_default=text("'pl'"))
    tier: Mapped[str] = mapped_column(String(20), server_default=text("'free'"))
    role: Mapped[str] = mapped_column(String(20), server_default=text("'user'"))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    email_verified: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    tokens_valid_after: Mapped[datetime] = mapped_column(DateTimeUTC)
    preferred_provider: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)


class ProcessingHistoryRow(DefaultBase):
    __tablename__ = "processing_history"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(GUID, ForeignKey("users.id", ondelete="CASCADE"))
    transcript_hash: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(50))
    summary: Mapped[str | None] = mapped_column(Text)
    topics: Mapped[str | None] = mapped_column(Text)
    mind_map: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    social_post: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    outputs: Mapped[str] = mapped_column(String(100), server_default=text("''"))
    key_topics: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonB)
    custom_prompt: Mapped[str | None] = mapped_column(Text)
    custom_output: Mapped[str | None] = mapped_column(Text)
    video_id: Mapped[str | None] = mapped_column(String(20))
    video_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), server_default=text("'pl'"))
    provider: Mapped[str] = mapped_column(String(30), server_default=text("''"))
    model: Mapped[str] = mapped_column(String(100), server_default=text("''"))
    tokens_in: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tokens_out: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))
    duration_ms: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    cached: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    attribution: Mapped[dict[str, Any] | None] = mapped_column(JsonB)
    # Title, summary, topics, social post and custom output, folded (domain.search): what full text indexes.
    search_text: Mapped[str] = mapped_column(Text, server_default=text("''"))

    __table_args__ = (
        Index("ix_processing_history_user_created", "user_id", "created_at", "id"),
        Index("ix_processing_history_user_video", "user_id", "video_id"),
    )


class AuthSessionRow(DefaultBase):
    """A refresh-token family: one login."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)

    # Every API process loads the sessions revoked within an access token's lifetime at start and on reconnect.
    __table_args__ = (Index("ix_auth_sessions_revoked_at", "revoked_at"),)


class RefreshTokenRow(DefaultBase):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)


class PasswordResetTokenRow(DefaultBase):
    __tablename__ = "password_reset_tokens"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)


class ApiTokenRow(DefaultBase):
    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated, as in OAuth
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)

    __table_args__ = (Index("ix_api_tokens_user_created", "user_id", "created_at", "id"),)


class EmailOutboxRow(DefaultBase):
    __tablename__ = "email_outbox"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC)

    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),)


class RevocationOutboxRow(DefaultBase):
    """A session revocation committed here but not yet announced to the other API processes; the relay
    announces it (again, harmlessly, if the request already did) and deletes the row."""

    __tablename__ = "revocation_outbox"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(GUID)
    revoked_until: Mapped[datetime] = mapped_column(DateTimeUTC)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTimeUTC)

    __table_args__ = (Index("ix_revocation_outbox_due", "next_attempt_at"),)


class UsageEventRow(DefaultBase):
    __tablename__ = "usage_events"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(GUID, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    provider: Mapped[str | None] = mapped_column(String(30))
    model: Mapped[str | None] = mapped_column(String(100))
    tokens_in: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tokens_out: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default=text("0"))
    cached: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC)
    payer: Mapped[str | None] = mapped_column(String(20))
    history_id: Mapped[uuid.UUID | None] = mapped_column(
        GUID, ForeignKey("processing_history.id", name="fk_usage_events_history_id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_usage_events_user_created", "user_id", "created_at"),
        Index("ix_usage_events_user_payer_created", "user_id", "payer", "created_at"),
    )


metadata = DefaultBase.metadata


# Full-text search is one engine's own structure on each database, so the models cannot describe it: on PostgreSQL
# a stored tsvector column over `search_text` and its GIN index, on SQLite an FTS5 table (and its shadow tables)
# kept in step by triggers. Revision 0005 creates them; comparing the schema with the models leaves them out.
SEARCH_VECTOR = "search_vector"
SEARCH_INDEX = "ix_processing_history_search"
FTS_TABLE = "processing_history_fts"


def is_search_structure(name: str | None) -> bool:
    return name is not None and (name in (SEARCH_VECTOR, SEARCH_INDEX) or name.startswith(FTS_TABLE))
