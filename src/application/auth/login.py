from __future__ import annotations

from dataclasses import dataclass

from application.auth.policy import AuthPolicy
from application.auth.tokens import SessionTokens, TokenPair
from application.errors import InvalidCredentials, TooManyAttempts
from application.ports import AttemptCounter, Clock, PasswordHasher, UnitOfWork, UserRepository
from domain.users import AccountDisabled


@dataclass(frozen=True, slots=True)
class LoginCommand:
    email: str
    password: str
    client_ip: str


class LoginUser:
    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        attempts: AttemptCounter,
        tokens: SessionTokens,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._attempts = attempts
        self._tokens = tokens
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, cmd: LoginCommand) -> TokenPair:
        email = cmd.email.strip().lower()
        account_key, ip_key = f"login:account:{email}", f"login:ip:{cmd.client_ip}"
        await self._refuse_if_throttled(account_key, ip_key)

        user = await self._users.get_by_email(email)
        # An unknown e-mail costs the same hash as a known one, so timing tells nothing.
        password_ok = await self._hasher.verify(user.password_hash if user else None, cmd.password)
        if user is None or not password_ok:
            window = self._policy.login_window_seconds
            await self._attempts.increment(account_key, window)
            await self._attempts.increment(ip_key, window)
            raise InvalidCredentials
        if user.disabled:
            raise AccountDisabled

        await self._attempts.reset(account_key)
        now = self._clock.now()
        if self._hasher.needs_rehash(user.password_hash):
            user = user.with_changes(now, password_hash=await self._hasher.hash(cmd.password))
            await self._users.update(user)
        pair = await self._tokens.start(user, now)
        await self._uow.commit()
        return pair

    async def _refuse_if_throttled(self, account_key: str, ip_key: str) -> None:
        for key, limit in (
            (account_key, self._policy.login_failures_per_account),
            (ip_key, self._policy.login_failures_per_ip),
        ):
            failures, resets_in = await self._attempts.peek(key)
            if failures >= limit:
                raise TooManyAttempts(resets_in)
