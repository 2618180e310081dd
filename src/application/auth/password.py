"""Changing a password, and resetting a forgotten one by e-mail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from application.auth.authenticate import Principal
from application.auth.policy import AuthPolicy
from application.auth.tokens import SessionTokens, TokenPair, fingerprint, new_secret
from application.errors import InvalidCredentials, InvalidResetToken, TooManyAttempts
from application.ports import (
    AttemptCounter,
    Clock,
    EmailMessage,
    EmailOutbox,
    PasswordHasher,
    PasswordResetRecord,
    PasswordResetRepository,
    SessionRepository,
    UnitOfWork,
    UserCache,
    UserRepository,
)
from domain.errors import check_all
from domain.passwords import check_new_password, context_words
from domain.users import User


class ChangePassword:
    """Needs the current password; ends every session and returns a fresh pair for this client."""

    def __init__(
        self,
        users: UserRepository,
        sessions: SessionRepository,
        hasher: PasswordHasher,
        tokens: SessionTokens,
        cache: UserCache,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._hasher = hasher
        self._tokens = tokens
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def __call__(self, principal: Principal, current_password: str, new_password: str) -> TokenPair:
        principal.require_session()
        user = principal.user
        check_all({"new_password": lambda: check_new_password(new_password, context_words(user.email))})
        if not await self._hasher.verify(user.password_hash, current_password):
            raise InvalidCredentials
        now = self._clock.now()
        user = user.with_new_password(await self._hasher.hash(new_password), now)
        await self._users.update(user)
        await self._sessions.revoke_all_for_user(user.id, now)
        pair = await self._tokens.start(user, now)
        await self._uow.commit()
        self._cache.invalidate(user.id)
        return pair


@dataclass(frozen=True, slots=True)
class ForgotPasswordCommand:
    email: str
    client_ip: str


class RequestPasswordReset:
    """Same answer whether or not the address has an account: the caller learns nothing."""

    def __init__(
        self,
        users: UserRepository,
        resets: PasswordResetRepository,
        outbox: EmailOutbox,
        attempts: AttemptCounter,
        uow: UnitOfWork,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._users = users
        self._resets = resets
        self._outbox = outbox
        self._attempts = attempts
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def __call__(self, cmd: ForgotPasswordCommand) -> None:
        email = cmd.email.strip().lower()
        window = self._policy.reset_window_seconds
        for key, limit in (
            (f"reset:account:{email}", self._policy.reset_requests_per_account),
            (f"reset:ip:{cmd.client_ip}", self._policy.reset_requests_per_ip),
        ):
            count, resets_in = await self._attempts.increment(key, window)
            if count > limit:
                raise TooManyAttempts(resets_in)
        user = await self._users.get_by_email(email)
        if user is None or user.disabled:
            return
        now = self._clock.now()
        secret = new_secret()
        await self._resets.expire_all_for_user(user.id, now)  # only the newest link works
        await self._resets.add(
            PasswordResetRecord(
                id=uuid.uuid4(),
                user_id=user.id,
                token_hash=fingerprint(secret),
                created_at=now,
                expires_at=now + self._policy.reset_token_lifetime,
            )
        )
        await self._outbox.enqueue(self._message(user, secret), now)
        await self._uow.commit()

    def _message(self, user: User, secret: str) -> EmailMessage:
        minutes = int(self._policy.reset_token_lifetime.total_seconds() // 60)
        link = self._policy.password_reset_url.format(token=secret)
        return EmailMessage(
            to=user.email,
            subject="Reset your Scribe password",
            body=(
                f"Someone asked to reset the password of your Scribe account.\n\n"
                f"To choose a new password, open this link within {minutes} minutes:\n{link}\n\n"
                f"If it was not you, ignore this e-mail; your password stays as it is.\n"
            ),
        )


class ResetPassword:
    """Spends a reset token once, sets the new password and ends every session."""

    def __init__(
        self,
        users: UserRepository,
        resets: PasswordResetRepository,
        sessions: SessionRepository,
        hasher: PasswordHasher,
        cache: UserCache,
        uow: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._users = users
        self._resets = resets
        self._sessions = sessions
        self._hasher = hasher
        self._cache = cache
        self._uow = uow
        self._clock = clock

    async def __call__(self, token: str, new_password: str) -> None:
        now = self._clock.now()
        record = await self._resets.find(fingerprint(token))
        if record is None or record.used_at is not None or now >= record.expires_at:
            raise InvalidResetToken
        user = await self._users.get(record.user_id)
        if user is None or user.disabled:
            raise InvalidResetToken
        check_all({"new_password": lambda: check_new_password(new_password, context_words(user.email))})
        if not await self._resets.mark_used(record.id, now):
            raise InvalidResetToken
        await self._users.update(user.with_new_password(await self._hasher.hash(new_password), now))
        await self._sessions.revoke_all_for_user(user.id, now)
        await self._uow.commit()
        self._cache.invalidate(user.id)
