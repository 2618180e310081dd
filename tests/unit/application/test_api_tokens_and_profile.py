from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest

from application.accounts.admin import AccountChanges
from application.accounts.api_tokens import CreateApiTokenCommand
from application.accounts.profile import ProfileChanges
from application.auth.register import RegisterCommand
from application.errors import AuthenticationFailed, PermissionDenied
from application.pagination import PageRequest
from domain.api_tokens import ApiTokenNotFound, Scope
from domain.errors import InvalidInput
from domain.users import User
from tests.unit.application.conftest import STRONG, UseCases
from tests.unit.fakes import World


async def _principal(uc: UseCases, email: str = "ada@example.com"):  # type: ignore[no-untyped-def]
    pair = await uc.register(RegisterCommand(email, STRONG))
    return await uc.authenticate(pair.access_token)


async def test_an_api_token_authenticates_with_its_scopes_until_revoked(uc: UseCases, world: World) -> None:
    owner = await _principal(uc)
    created = await uc.create_token(owner, CreateApiTokenCommand("ci", (Scope.READ,)))
    assert created.secret.startswith("scribe_")
    assert created.secret not in {t.token_hash for t in world.api_tokens.rows.values()}

    via_token = await uc.authenticate(created.secret)
    assert via_token.user.id == owner.user.id
    assert via_token.scopes == {Scope.READ}
    with pytest.raises(PermissionDenied):
        via_token.require(Scope.WRITE)

    await uc.revoke_token(owner, created.token.id)
    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(created.secret)


async def test_an_api_token_cannot_mint_tokens(uc: UseCases) -> None:
    owner = await _principal(uc)
    created = await uc.create_token(owner, CreateApiTokenCommand("ci"))
    via_token = await uc.authenticate(created.secret)
    with pytest.raises(PermissionDenied):
        await uc.create_token(via_token, CreateApiTokenCommand("more"))


async def test_tokens_of_others_are_invisible_and_cannot_be_revoked(uc: UseCases) -> None:
    ada = await _principal(uc)
    bob = await _principal(uc, "bob@example.com")
    created = await uc.create_token(ada, CreateApiTokenCommand("ci"))

    assert (await uc.list_tokens(bob, PageRequest())).items == []
    with pytest.raises(ApiTokenNotFound):
        await uc.revoke_token(bob, created.token.id)


async def test_token_listing_pages_through_everything_once(uc: UseCases, world: World) -> None:
    ada = await _principal(uc)
    for n in range(7):
        world.clock.advance(seconds=n % 2)  # some share a timestamp: the id breaks the tie
        await uc.create_token(ada, CreateApiTokenCommand(f"t{n}"))
    seen, cursor = [], None
    while True:
        page = await uc.list_tokens(ada, PageRequest.of(3, cursor))
        seen += [t.name for t in page.items]
        if not (cursor := page.next_cursor):
            break
    assert sorted(seen) == [f"t{n}" for n in range(7)]


async def test_token_input_is_validated_all_at_once(uc: UseCases) -> None:
    ada = await _principal(uc)
    with pytest.raises(InvalidInput) as caught:
        await uc.create_token(ada, CreateApiTokenCommand(" ", (), expires_in_days=0))
    assert {p.field for p in caught.value.problems} == {"name", "scopes", "expires_in_days"}


async def test_profile_changes_only_what_was_sent(uc: UseCases, world: World) -> None:
    ada = await _principal(uc)
    updated = await uc.update_profile(ada, ProfileChanges(display_name="  Ada   Lovelace "))
    assert updated.display_name == "Ada Lovelace"
    assert updated.preferred_language == "pl"

    assert world.users.rows[ada.user.id].display_name == "Ada Lovelace"

    with pytest.raises(InvalidInput):
        await uc.update_profile(ada, ProfileChanges(preferred_language="polish"))


async def test_reading_the_profile_needs_the_read_scope(uc: UseCases) -> None:
    owner = await _principal(uc)
    write_only = await uc.authenticate(
        (await uc.create_token(owner, CreateApiTokenCommand("w", (Scope.WRITE,)))).secret
    )
    with pytest.raises(PermissionDenied):
        await uc.profile(write_only)
    assert (await uc.profile(owner)).id == owner.user.id


async def test_admin_actions_need_the_admin_role_and_the_right_scope(uc: UseCases) -> None:
    from domain.users import Role

    admin = await _principal(uc)
    await uc.change_account(admin.user.id, AccountChanges(role=Role.ADMIN))
    admin = await uc.authenticate((await uc.create_token(admin, CreateApiTokenCommand("ro", (Scope.READ,)))).secret)
    victim = await _principal(uc, "victim@example.com")

    assert (await uc.list_users_as_admin(admin, PageRequest())).items
    with pytest.raises(PermissionDenied):  # read-only token: no changes
        await uc.change_account_as_admin(admin, victim.user.id, AccountChanges(role=Role.ADMIN))
    with pytest.raises(PermissionDenied):  # not an admin at all
        await uc.list_users_as_admin(victim, PageRequest())


async def test_a_password_reset_revokes_api_tokens(uc: UseCases, world: World) -> None:
    import re

    from application.auth.password import ForgotPasswordCommand

    owner = await _principal(uc)
    created = await uc.create_token(owner, CreateApiTokenCommand("ci"))
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    (queued,) = world.outbox.queued.values()
    token = re.search(r"token=(\S+)", queued.message.body)
    assert token
    await uc.reset(token[1], "a brand new passphrase")
    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(created.secret)


async def test_token_names_refuse_control_and_bidi_characters(uc: UseCases) -> None:
    owner = await _principal(uc)
    for name in ("a\x00b", "evil\u202etxt.exe", "tab\there"):
        with pytest.raises(InvalidInput):
            await uc.create_token(owner, CreateApiTokenCommand(name))


async def test_a_token_in_use_is_read_from_storage_once_while_cached(
    uc: UseCases, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await _principal(uc)
    created = await uc.create_token(owner, CreateApiTokenCommand("ci"))
    reads = _count_calls(monkeypatch, world.accounts, "api_token")

    for _ in range(3):
        assert (await uc.authenticate(created.secret)).user.id == owner.user.id
    assert reads == [created.token.token_hash]


async def test_requests_that_find_a_user_uncached_share_one_read(
    uc: UseCases, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = await uc.register(RegisterCommand("ada@example.com", STRONG))
    created = await uc.create_token(await uc.authenticate(pair.access_token), CreateApiTokenCommand("ci"))
    world.cache.clear()  # the copies expired
    user_reads = _count_calls(monkeypatch, world.accounts, "user")
    token_reads = _count_calls(monkeypatch, world.accounts, "api_token")

    credentials = [pair.access_token, created.secret] * 20
    principals = await asyncio.gather(*(uc.authenticate(c) for c in credentials))

    assert {p.user.email for p in principals} == {"ada@example.com"}
    assert len(user_reads) == 1
    assert len(token_reads) == 1


async def test_a_request_after_a_change_does_not_share_a_read_from_before_it(
    uc: UseCases, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = await uc.register(RegisterCommand("ada@example.com", STRONG))
    principal = await uc.authenticate(pair.access_token)
    world.cache.clear()
    arrives = asyncio.Event()
    read_user = world.accounts.user

    async def slow_read(user_id: uuid.UUID) -> User | None:
        user = await read_user(user_id)  # read now, returned later
        await arrives.wait()
        return user

    monkeypatch.setattr(world.accounts, "user", slow_read)
    before = asyncio.ensure_future(uc.authenticate(pair.access_token))
    await _settle()  # its read of the enabled user is under way...
    await uc.change_account(principal.user.id, AccountChanges(disabled=True))  # ...when an admin disables them
    after = asyncio.ensure_future(uc.authenticate(pair.access_token))
    await _settle()
    arrives.set()

    assert (await before).user.id == principal.user.id  # it started before the change
    with pytest.raises(AuthenticationFailed):
        await after
    with pytest.raises(AuthenticationFailed):  # nor was the old copy kept
        await uc.authenticate(pair.access_token)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _count_calls(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> list[object]:
    """Patches `target.name` to record its first argument on each call."""
    calls: list[object] = []
    original = getattr(target, name)

    async def counted(first: object, *rest: object) -> object:
        calls.append(first)
        return await original(first, *rest)

    monkeypatch.setattr(target, name, counted)
    return calls


async def test_a_token_revoked_while_its_use_is_recorded_stays_revoked(
    uc: UseCases, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await _principal(uc)
    created = await uc.create_token(owner, CreateApiTokenCommand("ci"))
    record_use = world.accounts.record_api_token_use

    async def revoked_meanwhile(token_id: uuid.UUID, now: datetime) -> None:
        await uc.revoke_token(owner, token_id)  # the owner revokes it while its first use is being recorded
        await record_use(token_id, now)

    monkeypatch.setattr(world.accounts, "record_api_token_use", revoked_meanwhile)
    await uc.authenticate(created.secret)  # it was valid when this request began

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(created.secret)
