"""BYOK use cases on in-memory fakes: checked before stored, masked when listed, private, rotatable."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from application.accounts.ports import SealedSecret, StoredProviderKey, UserProviderKeys
from application.accounts.provider_keys import (
    ROTATION_BATCH,
    CountProviderKeys,
    DeleteProviderKey,
    ListProviderKeys,
    ProviderKeyInfo,
    RotateProviderKeys,
    SaveProviderKey,
    masked_hint,
)
from application.auth.authenticate import Principal
from application.errors import NotFound, PermissionDenied, ProviderFailure, ProviderKeyRejected
from application.processing.ports import ApiKey
from domain.api_tokens import Scope
from domain.errors import InvalidInput
from domain.users import Email, User
from infrastructure.security.secret_box import AesGcmSecretBox
from tests.unit.container import UseCase, use_case_container
from tests.unit.fakes import T0, KeyCheckingProvider, World

GOOD = "good-0123456789abcdef"
KEYRING = {"v1": os.urandom(32)}


class Keys:
    """The BYOK use cases of the production container, over one in-memory world."""

    save = UseCase(SaveProviderKey)
    list = UseCase(ListProviderKeys)
    delete = UseCase(DeleteProviderKey)
    rotate = UseCase(RotateProviderKeys)
    count = UseCase(CountProviderKeys)

    def __init__(self, world: World) -> None:
        self.world = world
        self.container = use_case_container(world)

    async def decrypted_for(self, user_id: uuid.UUID) -> Mapping[str, ApiKey]:
        """What a processing request gets: the user's keys, opened."""
        async with self.container() as request:
            return await (await request.get(UserProviderKeys)).for_user(user_id)

    def adapter(self, name: str) -> KeyCheckingProvider:
        adapter = self.world.catalog.adapters[name]
        assert isinstance(adapter, KeyCheckingProvider)
        return adapter


@pytest.fixture
def keys() -> Keys:
    return Keys(World(box=AesGcmSecretBox(KEYRING)))


def principal(*scopes: Scope) -> Principal:
    user = User.register(Email(f"{uuid.uuid4().hex[:8]}@example.com"), "hash", now=T0)
    return Principal(user, frozenset(scopes or Scope), session_id=uuid.uuid4())


async def test_a_saved_key_is_listed_as_a_hint_and_stored_sealed(keys: Keys) -> None:
    ada = principal()
    info = await keys.save(ada, "anthropic", GOOD)

    assert info == ProviderKeyInfo("anthropic", "good…cdef", "v1", T0)
    assert await keys.list(ada) == [info]
    [stored] = keys.world.provider_keys.rows[ada.user.id]
    assert GOOD not in stored.sealed.token
    assert keys.world.box.open(stored.sealed, f"{ada.user.id}|anthropic") == GOOD
    assert keys.adapter("anthropic").checks == 1
    assert keys.world.uow.commits == 1


async def test_a_user_without_keys_is_not_looked_up_again_until_they_save_one(
    keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = principal()
    lookups: list[uuid.UUID] = []
    stored = keys.world.provider_keys.list

    async def counted(user_id: uuid.UUID) -> Sequence[StoredProviderKey]:
        lookups.append(user_id)
        return await stored(user_id)

    monkeypatch.setattr(keys.world.provider_keys, "list", counted)
    assert await keys.decrypted_for(ada.user.id) == {}
    assert await keys.decrypted_for(ada.user.id) == {}
    assert lookups == [ada.user.id]

    await keys.save(ada, "anthropic", GOOD)
    assert {p: k.secret for p, k in (await keys.decrypted_for(ada.user.id)).items()} == {"anthropic": GOOD}


async def test_saving_again_replaces_that_providers_key_and_keeps_the_others(keys: Keys) -> None:
    ada = principal()
    await keys.save(ada, "anthropic", GOOD)
    await keys.save(ada, "openai", "good-openai-key-1")
    keys.world.clock.advance(minutes=5)
    await keys.save(ada, "anthropic", "good-replacement-key")

    listed = await keys.list(ada)
    assert [(k.provider, k.hint) for k in listed] == [("anthropic", "good…-key"), ("openai", "good…ey-1")]
    assert listed[0].updated_at > listed[1].updated_at
    assert (await keys.decrypted_for(ada.user.id))["anthropic"].secret == "good-replacement-key"


async def test_a_key_the_provider_rejects_is_not_stored(keys: Keys) -> None:
    ada = principal()
    with pytest.raises(ProviderKeyRejected) as raised:
        await keys.save(ada, "anthropic", "bad-0123456789abcdef")
    assert "bad-0123456789abcdef" not in str(raised.value)
    assert keys.world.provider_keys.rows == {}
    assert keys.world.uow.commits == 0


async def test_a_key_is_not_stored_when_the_provider_cannot_be_asked(keys: Keys) -> None:
    ada = principal()
    await keys.save(ada, "anthropic", GOOD)
    keys.adapter("anthropic").failure = ProviderFailure("anthropic", "timeout")
    with pytest.raises(ProviderFailure):
        await keys.save(ada, "anthropic", "good-a-new-key-never-checked")
    assert [k.hint for k in await keys.list(ada)] == ["good…cdef"]  # the old key stays
    assert keys.world.uow.commits == 1


@pytest.mark.parametrize("provider", ["nope", "local", "", "Anthropic"])
async def test_only_providers_that_take_user_keys_are_accepted(keys: Keys, provider: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await keys.save(principal(), provider, GOOD)
    assert [p.field for p in raised.value.problems] == ["provider"]
    assert "anthropic, openai" in raised.value.problems[0].message
    assert keys.world.provider_keys.rows == {}
    assert all(keys.adapter(name).checks == 0 for name in keys.world.catalog.adapters)


@pytest.mark.parametrize(
    "secret",
    [
        "good-12",
        "good-" + "x" * 508,
        "good-with space",
        "good-with\ttab",
        "good-new\nline",
        "good-\x00-nul",
        "good-\u200b",
    ],
)
async def test_implausible_keys_are_refused_before_asking_the_provider(keys: Keys, secret: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        await keys.save(principal(), "anthropic", secret)
    assert [p.field for p in raised.value.problems] == ["api_key"]
    assert secret not in str(raised.value)
    assert keys.adapter("anthropic").checks == 0
    assert keys.world.provider_keys.rows == {}


async def test_every_bad_field_is_reported_at_once(keys: Keys) -> None:
    with pytest.raises(InvalidInput) as raised:
        await keys.save(principal(), "nope", "short")
    assert {p.field for p in raised.value.problems} == {"provider", "api_key"}


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        ("sk-ant-api03-abcdefghijklmnopf9Qx", "sk-a…f9Qx"),
        ("0123456789abcdef", "0123…cdef"),  # 16: four and four
        ("0123456789abcde", "…de"),  # shorter: only the last two, so little of a short key is shown
        ("abcdefgh", "…gh"),
    ],
)
def test_the_hint_shows_only_the_ends_of_a_key(secret: str, hint: str) -> None:
    assert masked_hint(secret) == hint


async def test_a_deleted_key_is_gone_and_a_second_delete_is_not_found(keys: Keys) -> None:
    ada = principal()
    await keys.save(ada, "anthropic", GOOD)
    await keys.save(ada, "openai", GOOD)
    await keys.delete(ada, "anthropic")
    assert [k.provider for k in await keys.list(ada)] == ["openai"]
    with pytest.raises(NotFound):
        await keys.delete(ada, "anthropic")
    await keys.delete(ada, "openai")
    assert keys.world.provider_keys.rows == {}  # no keys left: nothing stored for the user


async def test_users_see_and_delete_only_their_own_keys(keys: Keys) -> None:
    ada, bob = principal(), principal()
    await keys.save(ada, "anthropic", GOOD)
    assert await keys.list(bob) == []
    assert await keys.decrypted_for(bob.user.id) == {}
    with pytest.raises(NotFound):
        await keys.delete(bob, "anthropic")
    assert len(await keys.list(ada)) == 1


async def test_reading_needs_the_read_scope_and_writing_the_write_scope(keys: Keys) -> None:
    reader, writer = principal(Scope.READ), principal(Scope.WRITE)
    assert await keys.list(reader) == []
    for attempt in (keys.save(reader, "anthropic", GOOD), keys.delete(reader, "anthropic"), keys.list(writer)):
        with pytest.raises(PermissionDenied):
            await attempt
    assert keys.adapter("anthropic").checks == 0


async def test_decrypted_keys_are_the_users_own_and_skip_one_that_no_longer_opens(keys: Keys) -> None:
    ada = principal()
    await keys.save(ada, "anthropic", GOOD)
    await keys.save(ada, "openai", "good-openai-key-1")
    # Ada's openai entry replaced by a ciphertext sealed for Bob: it must not open as Ada's.
    bobs = keys.world.box.seal("good-bobs-key-123", f"{uuid.uuid4()}|openai")
    keys.world.provider_keys.rows[ada.user.id] = [
        k if k.provider == "anthropic" else replace(k, sealed=bobs) for k in keys.world.provider_keys.rows[ada.user.id]
    ]

    opened = await keys.decrypted_for(ada.user.id)
    assert opened == {"anthropic": ApiKey(GOOD)}
    assert GOOD not in repr(opened)


async def test_rotation_reseals_old_versions_and_counts_what_it_did(keys: Keys) -> None:
    users = [principal() for _ in range(ROTATION_BATCH * 2 + 5)]  # more than two batches
    for p in users:
        await keys.save(p, "anthropic", f"good-{p.user.id.hex}")
    lost = users[0]
    lost_key = keys.world.provider_keys.rows[lost.user.id][0]
    keys.world.provider_keys.rows[lost.user.id] = [replace(lost_key, sealed=SealedSecret("v0", lost_key.sealed.token))]

    keys.world.box = AesGcmSecretBox({"v2": os.urandom(32), **KEYRING})
    restarted = Keys(keys.world)  # the server started again with a new master key added
    report = await restarted.rotate()
    assert (report.rotated, report.already_current, report.unreadable) == (len(users) - 1, 0, 1)

    census = await restarted.count()
    assert census.current_version == "v2"
    assert census.by_version == {"v2": len(users) - 1, "v0": 1}
    for p in users[1:]:
        assert (await restarted.decrypted_for(p.user.id))["anthropic"].secret == f"good-{p.user.id.hex}"
    assert [k.hint for k in await keys.list(users[1])] == [masked_hint(f"good-{users[1].user.id.hex}")]

    again = await restarted.rotate()
    assert (again.rotated, again.already_current, again.unreadable) == (0, len(users) - 1, 1)


async def test_key_checks_are_limited_per_user(keys: Keys) -> None:
    from application.errors import TooManyAttempts

    ada, bob = principal(), principal()
    for _ in range(10):
        with pytest.raises(ProviderKeyRejected):
            await keys.save(ada, "anthropic", "bad-0123456789abcdef")
    with pytest.raises(TooManyAttempts):
        await keys.save(ada, "anthropic", GOOD)
    assert keys.adapter("anthropic").checks == 10  # the refused attempt never reached the provider
    await keys.save(bob, "anthropic", GOOD)  # another user's allowance is their own
