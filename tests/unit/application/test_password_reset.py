from __future__ import annotations

import re

import pytest

from application.auth.login import LoginCommand
from application.auth.password import ForgotPasswordCommand
from application.auth.register import RegisterCommand
from application.errors import AuthenticationFailed, InvalidResetToken
from domain.errors import InvalidInput
from tests.unit.application.conftest import STRONG, UseCases
from tests.unit.fakes import World

NEW = "a brand new passphrase"


def _token_from(world: World) -> str:
    (queued,) = world.outbox.queued.values()
    match = re.search(r"token=(\S+)", queued.message.body)
    assert match
    return match[1]


async def test_reset_sets_the_password_once_and_ends_every_session(uc: UseCases, world: World) -> None:
    pair = await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    token = _token_from(world)
    stored = next(iter(world.resets.rows.values()))
    assert token not in stored.token_hash  # only a hash is kept

    world.clock.advance(seconds=1)
    await uc.reset(token, NEW)

    with pytest.raises(AuthenticationFailed):
        await uc.authenticate(pair.access_token)
    await uc.login(LoginCommand("ada@example.com", NEW, "10.0.0.1"))
    with pytest.raises(InvalidResetToken):
        await uc.reset(token, "yet another passphrase")


async def test_reset_tokens_expire_after_thirty_minutes(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    world.clock.advance(minutes=30)
    with pytest.raises(InvalidResetToken):
        await uc.reset(_token_from(world), NEW)


async def test_only_the_newest_reset_link_works(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    first = _token_from(world)
    world.outbox.queued.clear()
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    with pytest.raises(InvalidResetToken):
        await uc.reset(first, NEW)
    await uc.reset(_token_from(world), NEW)


async def test_unknown_email_gets_the_same_silence_and_no_mail(uc: UseCases, world: World) -> None:
    await uc.forgot(ForgotPasswordCommand("nobody@example.com", "10.0.0.1"))
    assert world.outbox.queued == {}
    assert world.resets.rows == {}


async def test_a_weak_new_password_is_refused_and_the_token_survives(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    token = _token_from(world)
    with pytest.raises(InvalidInput):
        await uc.reset(token, "password1234")
    await uc.reset(token, NEW)


async def test_queued_mail_is_delivered_and_leaves_the_queue(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))
    assert await uc.deliver() == 1
    assert world.outbox.queued == {}
    assert world.outbox.sent[0].to == "ada@example.com"
