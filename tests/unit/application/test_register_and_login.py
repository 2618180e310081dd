from __future__ import annotations

import asyncio
import unicodedata

import pytest

from application.auth.login import LoginCommand
from application.auth.register import RegisterCommand
from application.errors import InvalidCredentials, TooManyAttempts
from domain.errors import InvalidInput
from domain.users import AccountDisabled, EmailTaken
from tests.unit.application.conftest import STRONG, UseCases
from tests.unit.fakes import FakeHasher, World


async def test_register_stores_a_normalised_email_and_only_the_hash(uc: UseCases, world: World) -> None:
    pair = await uc.register(RegisterCommand("  Ada@Example.COM ", STRONG))

    stored = world.users.rows[pair.user.id]
    assert stored.email == "ada@example.com"
    assert stored.password_hash == f"hashed:{STRONG}"  # what the hasher made of it, not the password
    assert stored.preferred_language == "pl"
    assert world.uow.commits == 1


async def test_register_refuses_a_taken_email_whatever_its_case(uc: UseCases) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    with pytest.raises(EmailTaken):
        await uc.register(RegisterCommand("ADA@example.com", STRONG))


async def test_register_reports_every_bad_field_at_once(uc: UseCases, world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        await uc.register(RegisterCommand("not-an-email", "short", display_name="  ", preferred_language="pol"))

    assert {p.field for p in caught.value.problems} == {"email", "password", "display_name", "preferred_language"}
    assert world.users.rows == {}


async def test_register_refuses_a_password_built_from_the_email(uc: UseCases) -> None:
    with pytest.raises(InvalidInput) as caught:
        await uc.register(RegisterCommand("marguerite@example.com", "marguerite2024"))
    assert caught.value.problems[0].field == "password"


async def test_login_with_the_right_password_opens_a_session(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    pair = await uc.login(LoginCommand("ADA@example.com", STRONG, "10.0.0.1"))

    principal = await uc.authenticate(pair.access_token)
    assert principal.user.email == "ada@example.com"
    assert len(world.sessions.sessions) == 2  # one from registering, one from this login


async def test_login_gives_one_answer_for_unknown_email_and_wrong_password(uc: UseCases) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    with pytest.raises(InvalidCredentials) as unknown:
        await uc.login(LoginCommand("nobody@example.com", STRONG, "10.0.0.1"))
    with pytest.raises(InvalidCredentials) as wrong:
        await uc.login(LoginCommand("ada@example.com", "wrong password here", "10.0.0.1"))
    assert str(unknown.value) == str(wrong.value)


async def test_one_address_gets_five_guesses_at_an_account_but_the_owner_elsewhere_is_not_locked_out(
    uc: UseCases, world: World
) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for _ in range(world.policy.login_failures_per_account_ip):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", "wrong password here", "10.6.6.6"))

    with pytest.raises(TooManyAttempts) as caught:  # even the right password, from that address
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.6.6.6"))
    assert 0 < caught.value.retry_after <= world.policy.login_window_seconds
    await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))  # the owner, at home


async def test_guesses_spread_over_many_addresses_are_capped_per_account(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for n in range(world.policy.login_failures_per_account):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", "wrong password here", f"10.1.{n // 250}.{n % 250}"))
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.9.9.9"))


async def test_login_is_throttled_per_address_across_accounts(uc: UseCases, world: World) -> None:
    for n in range(world.policy.login_failures_per_ip):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand(f"user{n}@example.com", "wrong password here", "10.0.0.1"))
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("fresh@example.com", "wrong password here", "10.0.0.1"))


async def test_concurrent_guesses_cannot_outrun_the_limit(world: World) -> None:
    class SlowHasher(FakeHasher):
        async def verify(self, password_hash: str | None, password: str) -> bool:
            await asyncio.sleep(0.01)  # like argon2 in a thread: other requests run meanwhile
            return await super().verify(password_hash, password)

    world.hasher = SlowHasher()
    uc = UseCases(world)
    await uc.register(RegisterCommand("ada@example.com", STRONG))

    async def guess() -> str:
        try:
            await uc.login(LoginCommand("ada@example.com", "wrong password here", "10.6.6.6"))
        except InvalidCredentials:
            return "checked"
        except TooManyAttempts:
            return "refused"
        return "logged in"

    outcomes = await asyncio.gather(*(guess() for _ in range(30)))
    assert outcomes.count("checked") == world.policy.login_failures_per_account_ip
    assert outcomes.count("refused") == 30 - world.policy.login_failures_per_account_ip


async def test_a_successful_login_clears_the_failures(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for _ in range(2):
        for _ in range(world.policy.login_failures_per_account_ip - 1):
            with pytest.raises(InvalidCredentials):
                await uc.login(LoginCommand("ada@example.com", "wrong password here", "10.0.0.1"))
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))  # counting starts again


async def test_a_malformed_email_is_just_an_unknown_one(uc: UseCases) -> None:
    with pytest.raises(InvalidCredentials):
        await uc.login(LoginCommand("a\x00@example.com", STRONG, "10.0.0.1"))


async def test_passwords_are_compared_in_nfkc(uc: UseCases) -> None:
    composed = "za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144"  # Polish, precomposed
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    await uc.register(RegisterCommand("ada@example.com", composed))
    await uc.login(LoginCommand("ada@example.com", decomposed, "10.0.0.1"))


async def test_registrations_are_limited_per_address(uc: UseCases, world: World) -> None:
    for n in range(world.policy.registrations_per_ip):
        await uc.register(RegisterCommand(f"user{n}@example.com", STRONG), "10.0.0.7")
    with pytest.raises(TooManyAttempts):
        await uc.register(RegisterCommand("one-more@example.com", STRONG), "10.0.0.7")
    await uc.register(RegisterCommand("elsewhere@example.com", STRONG), "10.0.0.8")


async def test_a_disabled_account_cannot_log_in(uc: UseCases) -> None:
    from application.accounts.admin import AccountChanges

    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.change_account("ada@example.com", AccountChanges(disabled=True))
    with pytest.raises(AccountDisabled):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))
