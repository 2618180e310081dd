"""Sealed provider keys in `users.encrypted_api_key`, and master-key rotation, on real PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.accounts.ports import StoredProviderKey
from application.accounts.provider_keys import DecryptedUserKeys, RotateProviderKeys, key_context, masked_hint
from domain.users import Email, User
from infrastructure.persistence.database import SqlUnitOfWork, make_engine, make_session_factory
from infrastructure.persistence.models import UserRow
from infrastructure.persistence.provider_keys import SqlProviderKeyRepository
from infrastructure.persistence.repositories import SqlUserRepository
from infrastructure.security.secret_box import AesGcmSecretBox
from infrastructure.state.memory import InMemoryUserCache

NOW = datetime.now(UTC).replace(microsecond=0)

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def keyrings() -> tuple[AesGcmSecretBox, AesGcmSecretBox]:
    """Before and after adding a new master version: {v1} and {v2 (current), v1}."""
    v1 = os.urandom(32)
    return AesGcmSecretBox({"v1": v1}), AesGcmSecretBox({"v2": os.urandom(32), "v1": v1})


async def _users(sessions: Sessions, count: int) -> list[uuid.UUID]:
    users = [User.register(Email(f"{uuid.uuid4().hex[:12]}@example.com"), "hash", now=NOW) for _ in range(count)]
    async with sessions() as s:
        for user in users:
            await SqlUserRepository(s).add(user)
        await s.commit()
    return [u.id for u in users]


def _key(box: AesGcmSecretBox, user_id: uuid.UUID, provider: str, secret: str) -> StoredProviderKey:
    return StoredProviderKey(provider, box.seal(secret, key_context(user_id, provider)), masked_hint(secret), NOW)


def _secret(user_id: uuid.UUID, provider: str) -> str:
    return f"good-{provider}-{user_id.hex}"


async def _store_keys(sessions: Sessions, box: AesGcmSecretBox, user_ids: list[uuid.UUID]) -> None:
    async with sessions() as s:
        repo = SqlProviderKeyRepository(s)
        for user_id in user_ids:
            await repo.lock(user_id)
            await repo.replace(user_id, [_key(box, user_id, p, _secret(user_id, p)) for p in ("anthropic", "openai")])
        await s.commit()


async def _documents(sessions: Sessions, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    async with sessions() as s:
        rows = await s.execute(select(UserRow.id, UserRow.encrypted_api_key).where(UserRow.id.in_(user_ids)))
        return {row.id: row.encrypted_api_key for row in rows}


async def test_keys_round_trip_as_one_json_document_per_user(
    sessions: Sessions, keyrings: tuple[AesGcmSecretBox, AesGcmSecretBox]
) -> None:
    box = keyrings[1]
    [user_id] = await _users(sessions, 1)
    keys = [_key(box, user_id, "openai", "good-openai-secret"), _key(box, user_id, "anthropic", "good-anth-secret")]
    async with sessions() as s:
        assert await SqlProviderKeyRepository(s).lock(user_id) == []
        await SqlProviderKeyRepository(s).replace(user_id, keys)
        await s.commit()

    async with sessions() as s:
        loaded = await SqlProviderKeyRepository(s).list(user_id)
    assert loaded == sorted(keys, key=lambda k: k.provider)
    assert loaded[0].updated_at.tzinfo is not None

    [stored] = (await _documents(sessions, [user_id])).values()
    assert stored is not None
    document = json.loads(stored)
    assert document["format"] == 1
    assert set(document["keys"]) == {"anthropic", "openai"}
    assert document["keys"]["anthropic"]["v"] == "v2"
    assert document["keys"]["anthropic"]["hint"] == "good…cret"
    assert "good-anth-secret" not in stored

    async with sessions() as s:
        await SqlProviderKeyRepository(s).replace(user_id, [])
        await s.commit()
    assert await _documents(sessions, [user_id]) == {user_id: None}


async def test_uncommitted_keys_are_not_stored(sessions: Sessions, keyrings: tuple[AesGcmSecretBox, ...]) -> None:
    [user_id] = await _users(sessions, 1)
    async with sessions() as s:
        await SqlProviderKeyRepository(s).replace(user_id, [_key(keyrings[0], user_id, "openai", "good-secret")])
    async with sessions() as s:
        assert await SqlProviderKeyRepository(s).list(user_id) == []


async def test_users_with_keys_walks_them_in_order_in_batches(
    sessions: Sessions, keyrings: tuple[AesGcmSecretBox, ...]
) -> None:
    with_keys = await _users(sessions, 5)
    without_keys = await _users(sessions, 2)
    await _store_keys(sessions, keyrings[0], with_keys)

    seen: list[uuid.UUID] = []
    after = None
    async with sessions() as s:
        while batch := await SqlProviderKeyRepository(s).users_with_keys(after, 2):
            assert len(batch) <= 2
            seen += batch
            after = batch[-1]
    assert len(seen) == len(set(seen))
    assert set(with_keys) <= set(seen)
    assert not set(without_keys) & set(seen)


async def test_a_document_in_another_format_reads_as_no_keys_and_is_left_alone(sessions: Sessions) -> None:
    [legacy, future] = await _users(sessions, 2)
    values = {legacy: "prototype-era-ciphertext", future: json.dumps({"format": 2, "keys": {}})}
    async with sessions() as s:
        for user_id, value in values.items():
            await s.execute(update(UserRow).where(UserRow.id == user_id).values(encrypted_api_key=value))
        await s.commit()
        assert await SqlProviderKeyRepository(s).list(legacy) == []
        assert await SqlProviderKeyRepository(s).lock(future) == []
    assert await _documents(sessions, [legacy, future]) == values


async def test_rotation_reseals_every_key_under_the_new_version_once(
    sessions: Sessions, keyrings: tuple[AesGcmSecretBox, AesGcmSecretBox]
) -> None:
    old_box, new_box = keyrings
    user_ids = await _users(sessions, 7)
    await _store_keys(sessions, old_box, user_ids)
    before = await _documents(sessions, user_ids)

    async with sessions() as s:
        report = await RotateProviderKeys(SqlProviderKeyRepository(s), new_box, SqlUnitOfWork(s))()
    # The database is shared with other tests: their keys, under other keyrings, may be counted too.
    assert report.rotated == 2 * len(user_ids)

    after = await _documents(sessions, user_ids)
    async with sessions() as s:
        opened = DecryptedUserKeys(SqlProviderKeyRepository(s), new_box, InMemoryUserCache(60))
        for user_id in user_ids:
            stored = await SqlProviderKeyRepository(s).list(user_id)
            assert {k.sealed.version for k in stored} == {"v2"}
            assert [k.hint for k in stored] == [masked_hint(_secret(user_id, p)) for p in ("anthropic", "openai")]
            assert [k.updated_at for k in stored] == [NOW, NOW]  # rotation is not the user changing the key
            keys = await opened.for_user(user_id)
            assert {p: k.secret for p, k in keys.items()} == {p: _secret(user_id, p) for p in ("anthropic", "openai")}
            assert after[user_id] != before[user_id]

    async with sessions() as s:
        again = await RotateProviderKeys(SqlProviderKeyRepository(s), new_box, SqlUnitOfWork(s))()
    assert again.rotated == 0
    assert again.already_current >= 2 * len(user_ids)
    assert await _documents(sessions, user_ids) == after


async def test_reads_keep_working_while_rotation_runs(
    sessions: Sessions, keyrings: tuple[AesGcmSecretBox, AesGcmSecretBox]
) -> None:
    old_box, new_box = keyrings
    user_ids = await _users(sessions, 40)
    await _store_keys(sessions, old_box, user_ids)
    rotation_done = asyncio.Event()
    versions_seen: set[str] = set()

    async def rotate() -> None:
        async with sessions() as s:
            await RotateProviderKeys(SqlProviderKeyRepository(s), new_box, SqlUnitOfWork(s))()
        rotation_done.set()

    async def read_until_rotated(offset: int) -> int:
        """The server meanwhile, with the new keyring: every read must open every key."""
        reads = 0
        while not rotation_done.is_set() or reads < len(user_ids):
            user_id = user_ids[(offset + reads) % len(user_ids)]
            async with sessions() as s:
                opened = DecryptedUserKeys(SqlProviderKeyRepository(s), new_box, InMemoryUserCache(60))
                keys = await opened.for_user(user_id)
                versions_seen.update(k.sealed.version for k in await SqlProviderKeyRepository(s).list(user_id))
            assert {p: k.secret for p, k in keys.items()} == {p: _secret(user_id, p) for p in ("anthropic", "openai")}
            reads += 1
            await asyncio.sleep(0)
        return reads

    readers = [asyncio.create_task(read_until_rotated(n * 7)) for n in range(3)]
    await rotate()
    reads = await asyncio.gather(*readers)
    assert all(count >= len(user_ids) for count in reads)
    assert versions_seen == {"v1", "v2"}  # the reads did run in the middle of the rotation
    async with sessions() as s:
        for user_id in user_ids:
            assert {k.sealed.version for k in await SqlProviderKeyRepository(s).list(user_id)} == {"v2"}


async def test_a_key_saved_during_a_users_rotation_waits_for_it_and_is_kept(
    database_url: str, sessions: Sessions, keyrings: tuple[AesGcmSecretBox, AesGcmSecretBox]
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite ignores FOR UPDATE (see SqlProviderKeyRepository)")
    old_box, new_box = keyrings
    [user_id] = await _users(sessions, 1)
    await _store_keys(sessions, old_box, [user_id])

    async def save_gemini_key() -> None:
        async with sessions() as s:
            repo = SqlProviderKeyRepository(s)
            others = [k for k in await repo.lock(user_id) if k.provider != "gemini"]
            await repo.replace(user_id, [*others, _key(new_box, user_id, "gemini", "good-gemini-key")])
            await s.commit()

    async with sessions() as rotation:
        repo = SqlProviderKeyRepository(rotation)
        held = await repo.lock(user_id)
        saving = asyncio.create_task(save_gemini_key())
        await asyncio.sleep(0.3)
        assert not saving.done()  # waits for the rotation's lock
        resealed = [_key(new_box, user_id, k.provider, _secret(user_id, k.provider)) for k in held]
        await repo.replace(user_id, resealed)
        await rotation.commit()
    await saving

    async with sessions() as s:
        stored = await SqlProviderKeyRepository(s).list(user_id)
    assert [(k.provider, k.sealed.version) for k in stored] == [("anthropic", "v2"), ("gemini", "v2"), ("openai", "v2")]
