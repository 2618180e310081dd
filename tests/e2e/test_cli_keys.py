"""`scribe keys status|rotate` as an admin runs them: a new master version is added, keys are re-sealed."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from datetime import UTC, datetime

import pytest

from application.accounts.ports import StoredProviderKey
from application.accounts.provider_keys import key_context, masked_hint
from domain.users import Email, User
from infrastructure.persistence.database import make_engine, make_session_factory
from infrastructure.persistence.provider_keys import SqlProviderKeyRepository
from infrastructure.persistence.repositories import SqlUserRepository
from infrastructure.security.secret_box import AesGcmSecretBox
from tests.services import clean_env, run_scribe

V1, V2 = os.urandom(32), os.urandom(32)
PROVIDERS = ("anthropic", "openai")


def _keyring(**keys: bytes) -> str:
    return ",".join(f"{version}:{base64.b64encode(key).decode()}" for version, key in keys.items())


def _secret(provider: str) -> str:
    return f"good-{provider}-cli-secret-123"


async def _user_with_v1_keys(database_url: str) -> uuid.UUID:
    box = AesGcmSecretBox({"v1": V1})
    user = User.register(Email(f"cli-{uuid.uuid4().hex[:8]}@example.com"), "hash", now=datetime.now(UTC))
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as s:
            await SqlUserRepository(s).add(user)
            keys = [
                StoredProviderKey(
                    p, box.seal(_secret(p), key_context(user.id, p)), masked_hint(_secret(p)), user.created_at
                )
                for p in PROVIDERS
            ]
            await SqlProviderKeyRepository(s).replace(user.id, keys)
            await s.commit()
    finally:
        await engine.dispose()
    return user.id


async def _stored(database_url: str, user_id: uuid.UUID) -> list[StoredProviderKey]:
    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as s:
            return list(await SqlProviderKeyRepository(s).list(user_id))
    finally:
        await engine.dispose()


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return clean_env(
        SCRIBE_DATABASE_URL=database_url,
        SCRIBE_ENCRYPTION_KEYS=_keyring(v2=V2, v1=V1),
        SCRIBE_LOG_FORMAT="json",
        COLUMNS="200",
    )


def test_rotate_reseals_keys_under_the_new_version_and_status_shows_it(database_url: str, env: dict[str, str]) -> None:
    user_id = asyncio.run(_user_with_v1_keys(database_url))

    before = run_scribe("keys", "status", env=env)
    assert before.returncode == 0, before.stderr
    assert "v1" in before.stdout
    assert "current version: v2" in before.stdout

    rotated = run_scribe("keys", "rotate", env=env)
    assert rotated.returncode == 0, rotated.stderr
    # The database is shared with other tests, whose keys (under other keyrings) count as unreadable here.
    assert "rotated: 2 " in rotated.stdout

    stored = asyncio.run(_stored(database_url, user_id))
    assert [k.sealed.version for k in stored] == ["v2", "v2"]
    new_box = AesGcmSecretBox({"v2": V2})  # v1 may now leave the keyring
    assert [new_box.open(k.sealed, key_context(user_id, k.provider)) for k in stored] == [_secret(p) for p in PROVIDERS]

    again = run_scribe("keys", "rotate", env=env)
    assert "rotated: 0 " in again.stdout
    assert asyncio.run(_stored(database_url, user_id)) == stored
    assert "v2 (current)" in run_scribe("keys", "status", env=env).stdout
    for output in (before, rotated, again):
        assert not any(_secret(p) in output.stdout + output.stderr for p in PROVIDERS)


def test_rotate_refuses_a_malformed_keyring(env: dict[str, str]) -> None:
    result = run_scribe("keys", "rotate", env={**env, "SCRIBE_ENCRYPTION_KEYS": "v2:not-base64"})
    assert result.returncode != 0
    assert "SCRIBE_ENCRYPTION_KEYS" in result.stderr
