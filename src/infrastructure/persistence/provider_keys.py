"""Users' sealed provider keys, stored in the seed column `users.encrypted_api_key`.

The column holds one JSON document per user with every provider's key:

    {"format": 1, "keys": {"anthropic": {"v": "v2", "ct": "<token>", "hint": "sk-a…f9Qx",
                                         "updated_at": "2026-01-01T12:00:00Z"}}}

Why one column: the seed schema gives it (SPEC §3), and one row lock (`lock`) then covers all of a user's keys,
so a save, a delete and a master-key rotation of the same user serialise without a table of their own. Only the
ciphertext is secret; the version and the hint are there to list keys and find stale ones without decrypting.
Each `ct` is sealed with associated data "user-id|provider|version" (see AesGcmSecretBox), so a ciphertext copied
into another user's document, under another provider, or relabelled with another version does not open.
A user without keys has NULL, which is what `users_with_keys` looks for.

SQLite ignores FOR UPDATE: there, a key saved at the very moment `scribe keys rotate` re-seals the same user
can be overwritten by the rotation's copy (the user's previous key comes back). PostgreSQL makes them take turns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec
import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from application.accounts.ports import SealedSecret, StoredProviderKey
from infrastructure.persistence.models import UserRow

DOCUMENT_FORMAT = 1

log = structlog.get_logger("scribe.provider_keys")


class _Entry(msgspec.Struct):
    v: str
    ct: str
    hint: str
    updated_at: datetime


class _Document(msgspec.Struct):
    format: int
    keys: dict[str, _Entry]


_decoder = msgspec.json.Decoder(_Document)
_encoder = msgspec.json.Encoder()


class SqlProviderKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self, user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
        stored = await self._session.scalar(select(UserRow.encrypted_api_key).where(UserRow.id == user_id))
        return _parse(stored, user_id)

    async def lock(self, user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
        # FOR NO KEY UPDATE on PostgreSQL, as SqlUserRepository.lock: the same lock, so key and profile writers
        # of one user take turns, while rows that merely reference the user are not held up.
        stored = await self._session.scalar(
            select(UserRow.encrypted_api_key).where(UserRow.id == user_id).with_for_update(key_share=True)
        )
        return _parse(stored, user_id)

    async def replace(self, user_id: uuid.UUID, keys: Sequence[StoredProviderKey]) -> None:
        await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(encrypted_api_key=_serialise(keys))
            .execution_options(synchronize_session=False)
        )

    async def users_with_keys(self, after: uuid.UUID | None, limit: int) -> Sequence[uuid.UUID]:
        query = select(UserRow.id).where(UserRow.encrypted_api_key.is_not(None)).order_by(UserRow.id).limit(limit)
        if after is not None:
            query = query.where(UserRow.id > after)
        return list(await self._session.scalars(query))


def _serialise(keys: Sequence[StoredProviderKey]) -> str | None:
    if not keys:
        return None
    entries = {
        k.provider: _Entry(k.sealed.version, k.sealed.token, k.hint, k.updated_at)
        for k in sorted(keys, key=lambda k: k.provider)
    }
    return _encoder.encode(_Document(DOCUMENT_FORMAT, entries)).decode()


def _parse(stored: str | None, user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
    if stored is None:
        return []
    try:
        document = _decoder.decode(stored)
    except msgspec.DecodeError:
        document = None
    if document is None or document.format != DOCUMENT_FORMAT:
        # Not ours (a value from before this format, or a newer one): shown as no keys and left as it is, until
        # the user saves a key over it.
        log.warning("provider_keys_document_unreadable", user_id=str(user_id))
        return []
    return [
        StoredProviderKey(provider, SealedSecret(e.v, e.ct), e.hint, e.updated_at)
        for provider, e in sorted(document.keys.items())
    ]
