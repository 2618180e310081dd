from __future__ import annotations

from dataclasses import dataclass, replace

from application.access import Limit, Throttle
from application.auth.policy import AuthPolicy
from application.auth.tokens import SessionTokens, TokenPair, fingerprint
from application.errors import InvalidCredentials, ServiceBusy, TooManyAttempts
from application.ports import Clock, DeviceTokens, PasswordHasher, UnitOfWork, UserRepository
from domain.errors import InvalidField, InvalidInput
from domain.passwords import normalize_password
from domain.users import AccountDisabled, Email


@dataclass(frozen=True, slots=True)
class LoginCommand:
    email: str
    password: str
    client_ip: str
    device_token: str | None = None


class LoginUser:
    """Failed logins are limited so that guessing is slow but the owner is not locked out by it:

    - a client with a device token from an earlier login to this account (OWASP's device cookies) has an
      allowance of its own, untouched by anyone else's guesses;
    - every other client is limited per address and account, per address, and per account: an attacker
      can exhaust the last one, but that only locks out clients that never logged in to the account;
    - an attempt whose password could not be checked (a server fault) is not counted at all."""

    raises = (InvalidInput, InvalidCredentials, AccountDisabled, TooManyAttempts, ServiceBusy)

    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        throttle: Throttle,
        tokens: SessionTokens,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
        devices: DeviceTokens,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._throttle = throttle
        self._tokens = tokens
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._devices = devices

    async def __call__(self, cmd: LoginCommand) -> TokenPair:
        account = cmd.email.strip().lower()
        device = self._device_allowance(cmd, account)
        by_ip, by_pair, by_account = self._stranger_limits(cmd.client_ip, account)
        # Counted before the password is checked: concurrent guesses cannot all slip under the limit.
        reservation = await self._throttle.reserve(*((device,) if device else (by_ip, by_pair, by_account)))
        try:
            user = await self._users.get_by_email(_valid_email(account)) if _valid_email(account) else None
            # An unknown e-mail costs the same hash as a known one, so timing tells nothing.
            password = normalize_password(cmd.password)
            password_ok = await self._hasher.verify(user.password_hash if user else None, password)
        except BaseException:
            await reservation.cancel()
            raise
        if user is None or not password_ok:
            raise InvalidCredentials
        if user.disabled:
            raise AccountDisabled

        if device:
            await self._throttle.forget(device)
        else:
            # The owner's guesses from here start again; other addresses' guesses at the account still count.
            await self._throttle.forget(by_pair)
            await self._throttle.refund(by_account)
            await self._throttle.refund(by_ip)
        rehashed = await self._hasher.hash(password) if self._hasher.needs_rehash(user.password_hash) else None
        # The password was checked against what we read before hashing; if it changed meanwhile (a reset, a
        # change), the old password must not win. Locked, so no change can land between check and session.
        fresh = await self._users.lock(user.id)
        if fresh is None or fresh.password_hash != user.password_hash:
            raise InvalidCredentials
        if fresh.disabled:
            raise AccountDisabled
        now = self._clock.now()
        user = fresh
        if rehashed is not None:
            user = fresh.with_changes(now, password_hash=rehashed)
            await self._users.update(user)
        pair = await self._tokens.start(user, now)
        await self._uow.commit()
        return replace(pair, device_token=self._devices.issue(account))

    def _device_allowance(self, cmd: LoginCommand, account: str) -> Limit | None:
        """The limit of a client that logged in to this account before, if it shows it can prove that."""
        if not cmd.device_token or not self._devices.is_valid(cmd.device_token, account):
            return None
        key = f"login:device:{fingerprint(cmd.device_token)}"
        return Limit(key, self._policy.login_failures_per_account_ip, self._policy.login_window_seconds)

    def _stranger_limits(self, client_ip: str, account: str) -> tuple[Limit, Limit, Limit]:
        window = self._policy.login_window_seconds
        return (
            Limit(f"login:ip:{client_ip}", self._policy.login_failures_per_ip, window),
            Limit(f"login:pair:{client_ip}:{account}", self._policy.login_failures_per_account_ip, window),
            Limit(f"login:account:{account}", self._policy.login_failures_per_account, window),
        )


def _valid_email(text: str) -> str:
    """The address if it is one, else "" (looked up as nobody: same answer, same cost)."""
    try:
        return Email.parse(text).value
    except InvalidField:
        return ""
