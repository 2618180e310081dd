"""Throttles that protect the owner: a check that could not run costs nothing, a device that logged in
before keeps its own allowance, and reset mails are limited without ever leaving the owner without a link."""

from __future__ import annotations

import re

import pytest

from application.auth.login import LoginCommand
from application.auth.password import ForgotPasswordCommand
from application.auth.register import RegisterCommand
from application.errors import InvalidCredentials, ServiceBusy, TooManyAttempts
from domain.users import User
from tests.unit.application.conftest import STRONG, UseCases
from tests.unit.fakes import FakeHasher, InMemoryOutbox, InMemoryUsers, World

WRONG = "wrong password here"


class DatabaseDown(Exception):
    """What a driver raises while PostgreSQL restarts."""


class FlakyUsers(InMemoryUsers):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def get(self, user_id: object) -> User | None:
        if self.down:
            raise DatabaseDown
        return await super().get(user_id)  # type: ignore[arg-type]

    async def get_by_email(self, email: str) -> User | None:
        if self.down:
            raise DatabaseDown
        return await super().get_by_email(email)


class FloodedHasher(FakeHasher):
    def __init__(self) -> None:
        self.flooded = False

    async def hash(self, password: str) -> str:
        if self.flooded:
            raise ServiceBusy(1)
        return await super().hash(password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        if self.flooded:
            raise ServiceBusy(1)
        return await super().verify(password_hash, password)


class FlakyOutbox(InMemoryOutbox):
    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def enqueue(self, message: object, now: object) -> None:
        if self.down:
            raise DatabaseDown
        await super().enqueue(message, now)  # type: ignore[arg-type]


@pytest.fixture
def users() -> FlakyUsers:
    return FlakyUsers()


@pytest.fixture
def world(users: FlakyUsers) -> World:
    return World(users=users, hasher=FloodedHasher(), outbox=FlakyOutbox())


async def test_logins_that_could_not_check_the_password_cost_no_attempt(
    uc: UseCases, world: World, users: FlakyUsers
) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    users.down = True
    for _ in range(world.policy.login_failures_per_account + 5):
        with pytest.raises(DatabaseDown):
            await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))
    users.down = False
    await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))  # not a 15-minute lockout


async def test_a_flooded_hasher_costs_no_attempt(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    assert isinstance(world.hasher, FloodedHasher)
    world.hasher.flooded = True
    for _ in range(world.policy.login_failures_per_account_ip + 1):
        with pytest.raises(ServiceBusy):
            await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))
    world.hasher.flooded = False
    await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))


async def test_wrong_passwords_still_count(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for _ in range(world.policy.login_failures_per_account_ip):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", WRONG, "10.0.0.1"))
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))


async def test_a_password_change_that_could_not_run_costs_no_guess(
    uc: UseCases, world: World, users: FlakyUsers
) -> None:
    pair = await uc.register(RegisterCommand("ada@example.com", STRONG))
    principal = await uc.authenticate(pair.access_token)
    users.down = True
    for _ in range(world.policy.password_change_failures + 1):
        with pytest.raises(DatabaseDown):
            await uc.change_password(principal, STRONG, "a brand new passphrase")
    users.down = False
    await uc.change_password(principal, STRONG, "a brand new passphrase")


async def _lock_out_strangers(uc: UseCases, world: World) -> None:
    """An attacker spreads wrong passwords over many addresses until the account refuses strangers."""
    for n in range(world.policy.login_failures_per_account):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", WRONG, f"10.1.{n // 250}.{n % 250}"))
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.9.9.9"))


async def test_a_device_that_logged_in_before_keeps_its_allowance_through_a_lockout(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    device = (await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))).device_token
    assert device
    await _lock_out_strangers(uc, world)

    # The owner, on the laptop that logged in before, from a new address: in, and with a fresh device token.
    again = await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.77", device_token=device))
    assert again.device_token
    assert again.device_token != device


async def test_a_device_has_its_own_limit(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    device = (await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1"))).device_token
    for _ in range(world.policy.login_failures_per_account_ip):
        with pytest.raises(InvalidCredentials):
            await uc.login(LoginCommand("ada@example.com", WRONG, "10.0.0.1", device_token=device))
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.1", device_token=device))
    await uc.login(LoginCommand("ada@example.com", STRONG, "10.0.0.2"))  # its guesses did not lock the account


@pytest.mark.parametrize("device", ["forged-device-token", "other-account"])
async def test_a_device_token_of_another_account_or_forged_gives_no_allowance(
    uc: UseCases, world: World, device: str
) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    await uc.register(RegisterCommand("eve@example.com", STRONG))
    if device == "other-account":
        device = (await uc.login(LoginCommand("eve@example.com", STRONG, "10.6.6.6"))).device_token
    await _lock_out_strangers(uc, world)
    with pytest.raises(TooManyAttempts):
        await uc.login(LoginCommand("ada@example.com", STRONG, "10.6.6.6", device_token=device))


def _links(world: World) -> list[str]:
    return [m[1] for q in world.outbox.queued.values() if (m := re.search(r"token=(\S+)", q.message.body))]


async def test_reset_requests_for_one_account_cannot_lock_its_owner_out(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    for n in range(3 * world.policy.reset_requests_per_account):  # from many addresses: always the same answer
        await uc.forgot(ForgotPasswordCommand("ada@example.com", f"10.2.0.{n}"))

    links = _links(world)
    assert len(links) == world.policy.reset_requests_per_account  # the mailbox is not flooded
    await uc.reset(links[-1], "a brand new passphrase")  # and the newest link still works for the owner


async def test_reset_requests_are_refused_per_address(uc: UseCases, world: World) -> None:
    for n in range(world.policy.reset_requests_per_ip):
        await uc.forgot(ForgotPasswordCommand(f"user{n}@example.com", "10.0.0.1"))
    with pytest.raises(TooManyAttempts):
        await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.0.0.1"))


async def test_a_reset_mail_that_could_not_be_queued_is_not_counted(uc: UseCases, world: World) -> None:
    await uc.register(RegisterCommand("ada@example.com", STRONG))
    assert isinstance(world.outbox, FlakyOutbox)
    world.outbox.down = True
    for n in range(world.policy.reset_requests_per_account + 1):
        with pytest.raises(DatabaseDown):
            await uc.forgot(ForgotPasswordCommand("ada@example.com", f"10.3.0.{n}"))
    world.outbox.down = False
    await uc.forgot(ForgotPasswordCommand("ada@example.com", "10.3.1.1"))
    assert len(_links(world)) == 1


async def test_registrations_that_could_not_run_are_not_counted(uc: UseCases, world: World) -> None:
    assert isinstance(world.hasher, FloodedHasher)
    world.hasher.flooded = True
    for n in range(world.policy.registrations_per_ip + 1):
        with pytest.raises(ServiceBusy):
            await uc.register(RegisterCommand(f"user{n}@example.com", STRONG), "10.4.0.1")
    world.hasher.flooded = False
    await uc.register(RegisterCommand("ada@example.com", STRONG), "10.4.0.1")
