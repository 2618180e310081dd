"""Refresh rotation, reuse detection, logout, lifetimes."""

from __future__ import annotations

import pytest

from application.accounts.admin import AccountChanges
from application.auth.register import RegisterCommand
from application.errors import AuthenticationFailed, InvalidCredentials
from domain.sessions import SessionInvalid
from tests.unit.application.conftest import STRONG, UseCases
from tests.unit.fakes import World


async def _registered(uc: UseCases):  # type: ignore[no-untyped-def]
    return await uc.register(RegisterCommand("ada@example.com", STRONG))


async def test_refresh_rotates_and_the_new_pair_works(uc: UseCases) -> None:
    first = await _registered(uc)
    second = await uc.refresh(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert (await uc.authenticate(second.access_token)).user.id == first.user.id


async def test_a_reused_refresh_token_revokes_the_whole_family(uc: UseCases, world: World) -> None:
    first = await _registered(uc)
    second = await uc.refresh(first.refresh_token)

    with pytest.raises(SessionInvalid) as caught:
        await uc.refresh(first.refresh_token)  # the thief (or the victim) replays the old one
    assert caught.value.reason == "refresh_token_reused"
    with pytest.raises(SessionInvalid):
        await uc.refresh(second.refresh_token)  # the legitimate latest token died with its family
    assert all(s.revoked_at is not None for s in world.sessions.sessions.values())


async def test_refresh_tokens_expire_when_idle(uc: UseCases, world: World) -> None:
    first = await _registered(uc)
    world.clock.advance(days=world.policy.refresh_idle_lifetime.days, seconds=1)
    with pytest.raises(SessionInvalid):
        await uc.refresh(first.refresh_token)


async def test_refreshing_never_extends_past_the_absolute_session_lifetime(uc: UseCases, world: World) -> None:
    pair = await _registered(uc)
    for _ in range(world.policy.session_max_age.days - 1):  # an active client refreshes daily
        world.clock.advance(days=1)
        pair = await uc.refresh(pair.refresh_token)
    world.clock.advance(days=1, seconds=1)
    with pytest.raises(SessionInvalid):
        await uc.refresh(pair.refresh_token)


async def test_an_unknown_refresh_token_is_refused(uc: UseCases) -> None:
    await _registered(uc)
    with pytest.raises(SessionInvalid):
        await uc.refresh("made-up")


async def test_logout_kills_the_access_token_at_once_and_the_refresh_token(uc: UseCases) -> None:
    pair = await _registered(uc)
    principal = await uc.authenticate(pair.access_token)

    await uc.logout(principal)

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(pair.access_token)
    with pytest.raises(SessionInvalid):
        await uc.refresh(pair.refresh_token)


async def test_access_tokens_expire(uc: UseCases, world: World) -> None:
    pair = await _registered(uc)
    world.clock.advance(minutes=15)
    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(pair.access_token)


async def test_disabling_an_account_locks_it_out_at_once(uc: UseCases) -> None:
    pair = await _registered(uc)
    await uc.authenticate(pair.access_token)  # now cached

    await uc.change_account(pair.user.id, AccountChanges(disabled=True))

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(pair.access_token)
    with pytest.raises(SessionInvalid):
        await uc.refresh(pair.refresh_token)


async def test_role_and_tier_come_from_storage_not_the_token(uc: UseCases) -> None:
    from domain.users import Role, Tier

    pair = await _registered(uc)
    await uc.change_account(pair.user.id, AccountChanges(tier=Tier.PRO, role=Role.ADMIN))

    principal = await uc.authenticate(pair.access_token)  # the same token as before the change
    assert principal.user.tier is Tier.PRO
    assert principal.user.is_admin


async def test_changing_the_password_ends_other_sessions_and_needs_the_current_one(uc: UseCases, world: World) -> None:
    pair = await _registered(uc)
    principal = await uc.authenticate(pair.access_token)
    with pytest.raises(InvalidCredentials):
        await uc.change_password(principal, "not my password", "a brand new passphrase")

    world.clock.advance(seconds=1)
    fresh = await uc.change_password(principal, STRONG, "a brand new passphrase")

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(pair.access_token)
    with pytest.raises(SessionInvalid):
        await uc.refresh(pair.refresh_token)
    assert (await uc.authenticate(fresh.access_token)).user.id == pair.user.id


async def test_logout_ends_every_access_token_of_the_session(uc: UseCases) -> None:
    first = await _registered(uc)
    second = await uc.refresh(first.refresh_token)  # same session, a newer access token

    await uc.logout(await uc.authenticate(second.access_token))

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(first.access_token)


async def test_a_stolen_refresh_token_replayed_ends_the_thiefs_access_token_too(uc: UseCases) -> None:
    stolen = await _registered(uc)
    thief = await uc.refresh(stolen.refresh_token)  # the thief refreshes first
    with pytest.raises(SessionInvalid):
        await uc.refresh(stolen.refresh_token)  # the victim's client replays: reuse detected

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(thief.access_token)


async def test_logout_leaves_the_users_other_sessions_alone(uc: UseCases) -> None:
    from application.auth.login import LoginCommand

    first = await _registered(uc)
    other = await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))
    await uc.logout(await uc.authenticate(first.access_token))
    assert (await uc.authenticate(other.access_token)).user.id == first.user.id


async def test_wrong_current_passwords_are_limited(uc: UseCases, world: World) -> None:
    from application.errors import TooManyAttempts

    pair = await _registered(uc)
    principal = await uc.authenticate(pair.access_token)
    for _ in range(world.policy.password_change_failures):
        with pytest.raises(InvalidCredentials):
            await uc.change_password(principal, "a wrong guess!", "a brand new passphrase")
    with pytest.raises(TooManyAttempts):
        await uc.change_password(principal, STRONG, "a brand new passphrase")


async def test_the_old_password_cannot_win_a_race_with_a_password_change(world: World) -> None:
    """The login checked the old password; before it opened a session the owner changed it."""
    from application.auth.login import LoginCommand
    from tests.unit.application.conftest import UseCases
    from tests.unit.fakes import FakeHasher

    users = world.users

    class ChangedDuringVerify(FakeHasher):
        async def verify(self, password_hash: str | None, password: str) -> bool:
            ok = await super().verify(password_hash, password)
            for user in list(users.rows.values()):  # the owner's change lands meanwhile
                users.rows[user.id] = user.with_new_password("hashed:brand new words", world.clock.now())
            return ok

    uc = UseCases(world)
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    world.hasher = ChangedDuringVerify()
    uc = UseCases(world)
    with pytest.raises(InvalidCredentials):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))


async def test_re_enabling_an_account_does_not_revive_its_old_access_tokens(uc: UseCases, world: World) -> None:
    pair = await _registered(uc)
    world.clock.advance(microseconds=1)
    await uc.change_account(pair.user.id, AccountChanges(disabled=True))
    await uc.change_account(pair.user.id, AccountChanges(disabled=False))
    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(pair.access_token)


async def test_a_revocation_the_others_cannot_hear_now_is_announced_once_they_can(uc: UseCases, world: World) -> None:
    """Redis down during a replay: the request still fails as it must, and the revocation waits in the outbox
    (committed with it) until the relay can announce it; nothing is announced twice once the relay has it."""
    first = await _registered(uc)
    await uc.refresh(first.refresh_token)
    world.revoked.reachable = False

    with pytest.raises(SessionInvalid):
        await uc.refresh(first.refresh_token)
    assert world.revoked.announced == []
    assert await uc.announce() == 0  # still unreachable: kept for later
    assert len(world.revocations.pending) == 1

    world.revoked.reachable = True
    world.clock.advance(seconds=1)
    assert await uc.announce() == 1
    assert world.revoked.announced == [first_session := next(iter(world.sessions.sessions))]
    assert world.revocations.pending == {}
    world.clock.advance(seconds=60)
    assert await uc.announce() == 0
    assert world.revoked.announced == [first_session]
