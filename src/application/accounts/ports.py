"""Ports of the accounts use cases: users' own provider keys, sealed at rest."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.processing.ports import ApiKey


@dataclass(frozen=True, slots=True)
class SealedSecret:
    version: str  # master key version that sealed it
    token: str  # base64 of nonce + ciphertext + tag


class SecretBox(Protocol):
    """Authenticated encryption under a versioned master keyring."""

    @property
    def current_version(self) -> str: ...

    def seal(self, plaintext: str, context: str) -> SealedSecret:
        """`context` (e.g. "user-id|provider") is bound as associated data together with the key version."""

    def open(self, sealed: SealedSecret, context: str) -> str:
        """Raises SecretUnreadable when the token was altered, moved to another context, or its version is gone."""


@dataclass(frozen=True, slots=True)
class StoredProviderKey:
    provider: str
    sealed: SealedSecret
    hint: str  # e.g. "sk-a…f9Qx": enough to recognise, useless to use
    updated_at: datetime


class ProviderKeyRepository(Protocol):
    async def list(self, user_id: uuid.UUID) -> Sequence[StoredProviderKey]: ...

    async def lock(self, user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
        """The stored keys, held against concurrent writers until commit."""

    async def replace(self, user_id: uuid.UUID, keys: Sequence[StoredProviderKey]) -> None: ...

    async def users_with_keys(self, after: uuid.UUID | None, limit: int) -> Sequence[uuid.UUID]:
        """User ids that have stored keys, ascending, after `after` (for walking every key in batches)."""


class UserProviderKeys(Protocol):
    """The decrypted keys a user stored, for one processing request."""

    async def for_user(self, user_id: uuid.UUID) -> Mapping[str, ApiKey]: ...
