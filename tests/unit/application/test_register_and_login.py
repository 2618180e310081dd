from __future__ import annotations

import pytest

from application.auth.login import LoginCommand
from application.auth.register import RegisterCommand
from application.errors import InvalidCredentials, TooManyAttempts
from domain.errors import InvalidInput
from domain.users import AccountDisabled, EmailTaken
from tests.unit.application.conftest import STRONG, UseCases
from tests.unit.fakes import World


async def test_register_stores_a_normalised_email_and_only_the_hash(uc: UseCases, world: World) -> None:
    pair = await uc.register(RegisterCommand("  Ada@Example.COM ", STRONG))

    stored = world.users.rows[pair.user.id]
    assert stored.email == "ada@example.com"
    assert STRONG not in stored.password_hash.replace("hashed:", "") or stored.password_hash != STRONG
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


async def test_login_is_throttled_per_account_after_repeated_failures(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for attempt in range(world.policy.login_failures_per_account):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", "wrong password here", f"10.0.0.{attempt}"))

    with pytest.raises(TooManyAttempts) as caught:  # even the right password, from a new address
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.9.9.9"))
    assert 0 < caught.value.retry_after <= world.policy.login_window_seconds


async def test_login_is_throttled_per_ip_across_accounts(uc: UseCases, world: World) -> None:
    for n in range(world.policy.login_failures_per_ip):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand(f"user{n}@example.com", "wrong password here", "10.0.0.1"))
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("fresh@example.com", "wrong password here", "10.0.0.1"))


async def test_a_successful_login_clears_the_account_failures(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for _ in range(world.policy.login_failures_per_account - 1):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", "wrong password here", "10.0.0.1"))
    await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))
    with pytest.raises(InvalidCredentials):  # counting starts again: not throttled yet
        await uc.login(LoginCommand("ada@example.com", "wrong password here", "10.0.0.1"))


async def test_a_disabled_account_cannot_log_in(uc: UseCases) -> None:
    from application.accounts.admin import AccountChanges

    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.change_account("ada@example.com", AccountChanges(disabled=True))
    with pytest.raises(AccountDisabled):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))
